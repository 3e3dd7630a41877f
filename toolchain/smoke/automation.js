// Runs the smoke project as a LOCAL program through the Node Automation API
// (LocalWorkspace.createOrSelectStack({ workDir, stackName })), so the CLI
// starts our pulumi-language-nodejs exactly as `pulumi up` in the folder does.
// Usage: node automation.js WORKDIR   (env: toolchain env.sh, PULUMI_BACKEND_URL, SMOKE_DIR)
"use strict";
const fs = require("fs");
const path = require("path");

const workDir = path.resolve(process.argv[2]);
const { LocalWorkspace } = require(path.join(workDir, "node_modules/@pulumi/pulumi/automation"));

function check(cond, what) {
    if (!cond) {
        console.error(`FAIL - automation: ${what}`);
        process.exit(1);
    }
    console.log(`ok - automation: ${what}`);
}

async function main() {
    const stackName = "auto";
    const stack = await LocalWorkspace.createOrSelectStack({ workDir, stackName });
    await stack.setConfig("x", { value: "2" });

    const up = await stack.up({ onOutput: () => {} });
    const file = up.outputs.filePath && up.outputs.filePath.value;
    check(up.summary.result === "succeeded", `up succeeded (${up.summary.result})`);
    check(up.outputs.greeting && up.outputs.greeting.value === "x is 2 in langhost-smoke/auto",
        `output greeting = ${JSON.stringify(up.outputs.greeting && up.outputs.greeting.value)}`);
    check(file && fs.readFileSync(file, "utf8") === "x=2\n", `dynamic resource wrote ${file}`);

    const pre = await stack.preview({ expectNoChanges: true });
    check(pre.changeSummary && pre.changeSummary.same === 2 && Object.keys(pre.changeSummary).length === 1,
        `preview expectNoChanges: ${JSON.stringify(pre.changeSummary)}`);

    process.env.SMOKE_FAIL = "1";
    let failure;
    try {
        await stack.preview();
    } catch (e) {
        failure = e;
    }
    delete process.env.SMOKE_FAIL;
    const msg = failure ? String(failure.message || failure) : "";
    check(failure !== undefined && msg.includes("error: bad input"), "RunError rejects preview with 'bad input'");
    check(!/\n\s+at .*index\.ts/.test(msg) && !msg.includes("non-zero exit code"),
        "RunError shows no stack trace and no exit-code message");

    const destroy = await stack.destroy({ onOutput: () => {} });
    check(destroy.summary.result === "succeeded", `destroy succeeded (${destroy.summary.result})`);
    check(!fs.existsSync(file), `dynamic resource removed ${file}`);

    await stack.workspace.removeStack(stackName);
    const stacks = await stack.workspace.listStacks();
    check(!stacks.some((s) => s.name === stackName), "stack removed");
}

main().catch((e) => {
    console.error(`FAIL - automation: ${e && e.stack ? e.stack : e}`);
    process.exit(1);
});
