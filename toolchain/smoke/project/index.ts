// A dynamic resource that writes a file on create and removes it on delete,
// driven by stack config `x`. SMOKE_FAIL=1 makes the program throw a RunError
// instead, to check that user errors show as a plain message; SMOKE_FAIL=exit
// makes it exit with code 3, to check how the host reports a bare exit.
import * as pulumi from "@pulumi/pulumi";

interface FileInputs {
    path: string;
    content: string;
}

const fileProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: FileInputs) {
        const fs = await import("fs");
        fs.writeFileSync(inputs.path, inputs.content);
        return { id: inputs.path, outs: inputs };
    },
    async diff(_id: string, olds: FileInputs, news: FileInputs) {
        const replaces = olds.path !== news.path ? ["path"] : [];
        return { changes: olds.path !== news.path || olds.content !== news.content, replaces };
    },
    async update(_id: string, _olds: FileInputs, news: FileInputs) {
        const fs = await import("fs");
        fs.writeFileSync(news.path, news.content);
        return { outs: news };
    },
    async delete(id: string) {
        const fs = await import("fs");
        fs.rmSync(id, { force: true });
    },
};

class SmokeFile extends pulumi.dynamic.Resource {
    public readonly path!: pulumi.Output<string>;
    public readonly content!: pulumi.Output<string>;
    constructor(name: string, args: { path: pulumi.Input<string>; content: pulumi.Input<string> },
                opts?: pulumi.CustomResourceOptions) {
        super(fileProvider, name, args, opts);
    }
}

if (process.env.SMOKE_FAIL === "1") {
    throw new pulumi.RunError("bad input");
}
if (process.env.SMOKE_FAIL === "exit") {
    process.exit(3);
}

const config = new pulumi.Config();
const x = config.require("x");
const dir = process.env.SMOKE_DIR ?? "/tmp";

const file = new SmokeFile("smoke-file", {
    path: `${dir}/langhost-smoke-${pulumi.getStack()}.txt`,
    content: `x=${x}\n`,
});

export const filePath = file.path;
export const greeting = pulumi.interpolate`x is ${x} in ${pulumi.getProject()}/${pulumi.getStack()}`;
