// Command pulumi-language-nodejs is drills' own minimal Node.js language host
// for the Pulumi engine.
//
// The real host (module github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3)
// is refused by the Go module proxy we build from, so scripts/pulumi-toolchain.sh
// builds this one instead, from modules the wrapper module toolchain/cli
// already requires (sdk/v3 for the gRPC contract and helpers).
//
// Contract with the engine (sdk/v3 go/common/resource/plugin/langruntime_plugin.go):
// the engine starts the plugin with one positional argument, its own gRPC
// address, in the program directory, and reads the port of our gRPC server
// from the first line of our stdout. It does not call Handshake in that mode
// (only when attaching through PULUMI_DEBUG_LANGUAGES); we answer it anyway.
//
// Contract with the program (@pulumi/pulumi/cmd/run of the program's own
// node_modules): `node [nodeargs] <cmd/run> --monitor A --engine A ... <entry> [args]`
// in the program directory, with PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS
// (JSON) and PULUMI_NODEJS_TYPESCRIPT / PULUMI_NODEJS_TSCONFIG_PATH in the
// environment. cmd/run registers ts-node itself when PULUMI_NODEJS_TYPESCRIPT
// is "true", and exits 32 after it has already logged a user-actionable error
// (a RunError, a ResourceError, a TS compile error) through the engine.
//
// What it deliberately does not do (see toolchain/README.md): no resource
// monitor proxy and no synchronous-invoke pipes (@pulumi/pulumi 3.248's
// runtime no longer uses --sync), no debugger attach, no plugin discovery
// (GetRequiredPackages answers an empty list), no policy packs, no codegen
// (GenerateProgram/Project/Package, Pack, Link, Template, RunPlugin answer
// Unimplemented).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/shlex"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const (
	// Module path of the run script, resolved from the program directory.
	// PULUMI_LANGUAGE_NODEJS_RUN_PATH overrides it (as for the real host).
	defaultRunModule = "@pulumi/pulumi/cmd/run"

	// cmd/run exits with this code after it has shown the user an actionable
	// message; the engine must then stop without adding one of its own.
	exitAfterUserActionableMessage = 32

	// Metadata reported by About, so `pulumi about` says which host this is.
	hostDescription = "drills minimal host (toolchain/cli/langhost)"
)

func main() {
	tracing := flag.String("tracing", "", "Zipkin-compatible tracing endpoint, passed on to the program")
	// Flags older engines passed to the real host; accepted and ignored, as it does.
	flag.Bool("typescript", true, "[obsolete] use the runtime option in Pulumi.yaml")
	flag.String("root", "", "[obsolete]")
	flag.String("tsconfig", "", "[obsolete] use the runtime option in Pulumi.yaml")
	flag.String("nodeargs", "", "[obsolete] use the runtime option in Pulumi.yaml")
	flag.String("packagemanager", "", "[obsolete]")
	flag.Parse()

	var engineAddress string
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[0]
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	cancel := make(chan bool)
	go func() {
		<-ctx.Done()
		stop()
		close(cancel)
	}()

	// Exit when the engine goes away, as every plugin does.
	if engineAddress != "" {
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, stop); err != nil {
			cmdutil.Exit(fmt.Errorf("could not start the engine health check: %w", err))
		}
	}

	host := &nodeHost{engineAddress: engineAddress, tracing: *tracing}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start the language host gRPC server: %w", err))
	}

	// The engine reads the port from the first line of our stdout.
	fmt.Printf("%d\n", handle.Port)

	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host gRPC server stopped: %w", err))
	}
}

// nodeHost implements pulumirpc.LanguageRuntimeServer. The embedded
// Unimplemented server answers codes.Unimplemented for every RPC not defined
// below.
type nodeHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	tracing       string
}

func (h *nodeHost) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

// Handshake is only used when the engine attaches to an already running host
// (PULUMI_DEBUG_LANGUAGES=nodejs:PORT); it tells us the engine's address.
func (h *nodeHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	h.engineAddress = req.GetEngineAddress()
	h.mu.Unlock()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *nodeHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// GetRequiredPackages answers an empty list on purpose. With
// PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION the engine cannot install what
// we would list, and a listed provider whose binary is missing (say
// @pulumi/docker, which is in drills' node_modules but cannot be built here)
// would only produce "plugin ... not installed" noise, or a hard error in
// `pulumi install`/refresh/destroy. With an empty list the engine falls back
// to the providers recorded in the stack's snapshot for default-provider
// versions, and loads providers lazily when a resource names one; the Node SDKs
// put their provider version in every RegisterResource anyway.
func (h *nodeHost) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// GetRequiredPlugins is the deprecated form of GetRequiredPackages; same answer.
func (h *nodeHost) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *nodeHost) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

// Cancel: nothing is in flight outside Run, and Run's node process shares our
// process group, so it receives the same signals the engine sends us.
func (h *nodeHost) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (h *nodeHost) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
		Metadata:   map[string]string{"languageHost": hostDescription},
	}, nil
}

// GetProgramDependencies lists the direct dependencies and devDependencies of
// the program's package.json, with the version installed in node_modules when
// there is one (else the declared range). TransitiveDependencies is ignored.
func (h *nodeHost) GetProgramDependencies(
	_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetPwd()
	}
	var pkg struct {
		Dependencies    map[string]string `json:"dependencies"`
		DevDependencies map[string]string `json:"devDependencies"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, fmt.Errorf("reading package.json: %w", err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", filepath.Join(dir, "package.json"), err)
	}
	declared := map[string]string{}
	for n, v := range pkg.DevDependencies {
		declared[n] = v
	}
	for n, v := range pkg.Dependencies {
		declared[n] = v
	}
	names := make([]string, 0, len(declared))
	for n := range declared {
		names = append(names, n)
	}
	sort.Strings(names)
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, n := range names {
		v := declared[n]
		var installed struct {
			Version string `json:"version"`
		}
		if b, err := os.ReadFile(filepath.Join(dir, "node_modules", n, "package.json")); err == nil &&
			json.Unmarshal(b, &installed) == nil && installed.Version != "" {
			v = installed.Version
		}
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: n, Version: v})
	}
	return resp, nil
}

// InstallDependencies runs `npm install` in the program directory (drills
// uses npm only; no yarn/pnpm/bun detection, no .nvmrc handling), streaming
// its output back to the engine.
func (h *nodeHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()

	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetDirectory() //nolint:staticcheck // older engines
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("could not find npm on the $PATH: %w", err)
	}
	fmt.Fprintf(stdout, "Installing dependencies (npm install in %s)...\n\n", dir)
	cmd := exec.CommandContext(server.Context(), npm, "install")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm install failed: %w", err)
	}
	fmt.Fprintf(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}

// runOptions are the `runtime.options` of Pulumi.yaml the run script needs.
type runOptions struct {
	typescript bool   // default true, as for the real host
	tsconfig   string // PULUMI_NODEJS_TSCONFIG_PATH
	nodeargs   []string
}

func parseRunOptions(info *pulumirpc.ProgramInfo) (runOptions, error) {
	opts := runOptions{typescript: true}
	m := info.GetOptions().AsMap()
	if v, ok := m["typescript"]; ok {
		b, ok := v.(bool)
		if !ok {
			return opts, errors.New("runtime option typescript must be a boolean")
		}
		opts.typescript = b
	}
	if v, ok := m["tsconfig"]; ok {
		s, ok := v.(string)
		if !ok {
			return opts, errors.New("runtime option tsconfig must be a string")
		}
		opts.tsconfig = s
	}
	if v, ok := m["nodeargs"]; ok {
		s, ok := v.(string)
		if !ok {
			return opts, errors.New("runtime option nodeargs must be a string")
		}
		args, err := shlex.Split(s)
		if err != nil {
			return opts, fmt.Errorf("runtime option nodeargs: %w", err)
		}
		opts.nodeargs = args
	}
	return opts, nil
}

// locateRunScript resolves the run script with node's own module resolution,
// starting in the program directory, so the program's @pulumi/pulumi runs it.
func locateRunScript(ctx context.Context, node, programDir string) (string, error) {
	mod := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH")
	if mod == "" {
		mod = defaultRunModule
	}
	script := `try { console.log(require.resolve(process.argv[1])); } catch (e) {` +
		` console.error(e.code === "MODULE_NOT_FOUND" ?` +
		` "It looks like the Pulumi SDK has not been installed. Have you run npm install?" : e.message);` +
		` process.exit(1); }`
	cmd := exec.CommandContext(ctx, node, "-e", script, mod)
	cmd.Dir = programDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", errors.New(msg)
		}
		return "", fmt.Errorf("resolving %s from %s: %w", mod, programDir, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Run executes the program once (a preview or an update) and reports how it
// ended: Error for a failure the engine should print, Bail when the program
// has already shown the user its error.
func (h *nodeHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if req.GetAttachDebugger() {
		return &pulumirpc.RunResponse{Error: "attaching a debugger is not supported by " + hostDescription}, nil
	}
	info := req.GetInfo()
	programDir := info.GetProgramDirectory()
	if programDir == "" {
		programDir = req.GetPwd()
	}
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = req.GetProgram()
	}
	if entry == "" {
		entry = "." // cmd/run then uses package.json's exports/main, else index
	}

	opts, err := parseRunOptions(info)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	cfg, err := configJSON(req.GetConfig())
	if err != nil {
		return &pulumirpc.RunResponse{Error: "failed to serialize configuration: " + err.Error()}, nil
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return &pulumirpc.RunResponse{Error: "failed to serialize secret configuration keys: " + err.Error()}, nil
	}

	node, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "could not find node on the $PATH: " + err.Error()}, nil
	}
	runScript, err := locateRunScript(ctx, node, programDir)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	// The flags cmd/run parses (see its usage()); the program and its own
	// arguments come last.
	args := append([]string{}, opts.nodeargs...)
	args = append(args, runScript)
	flagArg := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flagArg("monitor", req.GetMonitorAddress())
	flagArg("engine", h.engine())
	flagArg("organization", req.GetOrganization())
	flagArg("project", req.GetProject())
	flagArg("stack", req.GetStack())
	flagArg("root-directory", info.GetRootDirectory())
	flagArg("pwd", programDir)
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	flagArg("query-mode", strconv.FormatBool(req.GetQueryMode()))
	flagArg("parallel", strconv.Itoa(int(req.GetParallel())))
	flagArg("tracing", h.tracing)
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	env := append(os.Environ(),
		"PULUMI_CONFIG="+cfg,
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON),
	)
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}

	cmd := exec.Command(node, args...)
	cmd.Dir = programDir
	cmd.Env = env
	// Wrapping our stdout/stderr hides their *os.File, so exec copies through
	// pipes instead of handing node our descriptors: node may switch the
	// descriptors it gets to non-blocking mode, which would break our own
	// writes (and the engine's reading of them) after it exits.
	cmd.Stdout = struct{ io.Writer }{os.Stdout}
	cmd.Stderr = struct{ io.Writer }{os.Stderr}

	err = cmd.Run()
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()
	if err == nil {
		return &pulumirpc.RunResponse{}, nil
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Problem executing program (could not run node): %v", err),
		}, nil
	}
	switch code := exitErr.ExitCode(); code {
	case exitAfterUserActionableMessage:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case -1:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited unexpectedly: %v", exitErr)}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", code)}, nil
	}
}

// configJSON renders the engine's config (keys "<namespace>:<name>") as the
// JSON object cmd/run reads from PULUMI_CONFIG, in the "<namespace>:config:<name>"
// form that every @pulumi/pulumi version understands.
func configJSON(in map[string]string) (string, error) {
	out := make(map[string]string, len(in))
	for k, v := range in {
		key, err := config.ParseKey(k)
		if err != nil {
			return "", err
		}
		out[key.Namespace()+":config:"+key.Name()] = v
	}
	b, err := json.Marshal(out)
	return string(b), err
}
