// ucni-libcni: a minimal CNI runtime built on the official libcni, for tests.
//
// It drives one conflist through libcni exactly as a container runtime does
// (libcni finds the plugins in the path, injects runtimeConfig, caches the ADD
// result and hands it to CHECK and DEL as prevResult), so any result a plugin
// prints that libcni's own types cannot parse makes it fail.
//
//	ucni-libcni versions
//	ucni-libcni [flags] validate|add|check|del|cached CONFLIST
//
// Success prints one JSON object on stdout and exits 0. Failure prints
// {"error": "...", "code": N} (code from the plugin's CNI error, 0 when the
// error is libcni's own) and exits 1.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
)

// tracingExec is libcni's default executor plus a record of every plugin run:
// the raw stdout of the last ADD (to compare with what libcni parsed) and,
// with -trace, one JSON line per exec (command, plugin, stdin, stdout, error).
type tracingExec struct {
	invoke.DefaultExec
	trace   *os.File
	lastAdd []byte
}

func envValue(environ []string, key string) string {
	for _, kv := range environ {
		if strings.HasPrefix(kv, key+"=") {
			return kv[len(key)+1:]
		}
	}
	return ""
}

func (e *tracingExec) ExecPlugin(ctx context.Context, pluginPath string, stdin []byte, environ []string) ([]byte, error) {
	out, err := e.DefaultExec.ExecPlugin(ctx, pluginPath, stdin, environ)
	cmd := envValue(environ, "CNI_COMMAND")
	if cmd == "ADD" && err == nil {
		e.lastAdd = out
	}
	if e.trace != nil {
		rec := map[string]interface{}{
			"command": cmd,
			"plugin":  filepath.Base(pluginPath),
			"path":    pluginPath,
			"args":    envValue(environ, "CNI_ARGS"),
			"stdin":   json.RawMessage(stdin),
		}
		if len(out) > 0 && json.Valid(out) {
			rec["stdout"] = json.RawMessage(out)
		} else if len(out) > 0 {
			rec["stdout_text"] = string(out)
		}
		if err != nil {
			rec["error"] = err.Error()
		}
		line, _ := json.Marshal(rec)
		e.trace.Write(append(line, '\n'))
	}
	return out, err
}

func emit(v interface{}) {
	b, err := json.Marshal(v)
	if err != nil {
		die(err)
	}
	fmt.Println(string(b))
}

func die(err error) {
	code := uint(0)
	var cniErr *types.Error
	if errors.As(err, &cniErr) {
		code = cniErr.Code
	}
	emit(map[string]interface{}{"error": err.Error(), "code": code})
	os.Exit(1)
}

// parseArgs turns "K=V;K=V" into libcni's CNI_ARGS pairs.
func parseArgs(s string) [][2]string {
	var args [][2]string
	for _, kv := range strings.Split(s, ";") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		args = append(args, [2]string{k, v})
	}
	return args
}

func main() {
	path := flag.String("path", os.Getenv("CNI_PATH"), "plugin directories, colon-separated")
	cacheDir := flag.String("cache", "", "libcni cache directory (default: libcni's /var/lib/cni)")
	netns := flag.String("netns", "", "network namespace path")
	id := flag.String("id", "ucni-libcni", "container ID")
	ifname := flag.String("ifname", "eth0", "interface name in the container")
	cniArgs := flag.String("args", "", "CNI_ARGS as K=V;K=V")
	capArgs := flag.String("runtime-config", "", "capability arguments (runtimeConfig) as a JSON object")
	tracePath := flag.String("trace", "", "append one JSON line per plugin exec to this file")
	timeout := flag.Duration("timeout", 30*time.Second, "deadline for the whole operation")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: %s versions\n       %s [flags] validate|add|check|del|cached CONFLIST\n", os.Args[0], os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()

	if flag.NArg() == 1 && flag.Arg(0) == "versions" {
		emit(map[string]interface{}{
			"current":           version.Current(),
			"supportedVersions": version.All.SupportedVersions(),
		})
		return
	}
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	verb, confPath := flag.Arg(0), flag.Arg(1)

	list, err := libcni.ConfListFromFile(confPath)
	if err != nil {
		die(err)
	}

	ex := &tracingExec{DefaultExec: invoke.DefaultExec{RawExec: &invoke.RawExec{Stderr: os.Stderr}}}
	if *tracePath != "" {
		f, err := os.OpenFile(*tracePath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			die(err)
		}
		defer f.Close()
		ex.trace = f
	}
	cni := libcni.NewCNIConfigWithCacheDir(filepath.SplitList(*path), *cacheDir, ex)
	rt := &libcni.RuntimeConf{
		ContainerID: *id,
		NetNS:       *netns,
		IfName:      *ifname,
		Args:        parseArgs(*cniArgs),
	}
	if *capArgs != "" {
		if err := json.Unmarshal([]byte(*capArgs), &rt.CapabilityArgs); err != nil {
			die(fmt.Errorf("-runtime-config: %w", err))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	switch verb {
	case "validate":
		caps, err := cni.ValidateNetworkList(ctx, list)
		if err != nil {
			die(err)
		}
		emit(map[string]interface{}{"name": list.Name, "cniVersion": list.CNIVersion, "capabilities": caps})
	case "add":
		res, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			die(err)
		}
		// The result as libcni's typed structs re-marshal it, the same result
		// converted to libcni's newest version, and the plugin's raw output.
		cur, err := res.GetAsVersion(version.Current())
		if err != nil {
			die(fmt.Errorf("converting the result to %s: %w", version.Current(), err))
		}
		emit(map[string]interface{}{
			"resultVersion": res.Version(),
			"result":        res,
			"current":       cur,
			"raw":           json.RawMessage(ex.lastAdd),
		})
	case "check":
		if err := cni.CheckNetworkList(ctx, list, rt); err != nil {
			die(err)
		}
		emit(map[string]interface{}{"check": "ok"})
	case "del":
		if err := cni.DelNetworkList(ctx, list, rt); err != nil {
			die(err)
		}
		emit(map[string]interface{}{"del": "ok"})
	case "cached":
		res, err := cni.GetNetworkListCachedResult(list, rt)
		if err != nil {
			die(err)
		}
		if res == nil {
			emit(map[string]interface{}{"cached": nil})
			return
		}
		emit(map[string]interface{}{"cached": res})
	default:
		flag.Usage()
		os.Exit(2)
	}
}
