package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// The package doc's recipes for other languages' test suites, step by
// step, in those languages: spawn `bookingsync fake`, read the URL and the
// token, call the API, stop the fake. Skipped where the interpreter is
// missing.

const pythonRecipe = `
import json, subprocess, urllib.request
p = subprocess.Popen(["bookingsync", "fake", "--addr", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
url = p.stdout.readline().split()[-1]
token = p.stdout.readline().split()[-1]
req = urllib.request.Request(url + "/api/v3/inbox/conversations", headers={"Authorization": "Bearer " + token})
print(len(json.load(urllib.request.urlopen(req))["conversations"]), "conversations")
p.terminate()
print("exit", p.wait())
`

const nodeRecipe = `
const { spawn } = require("node:child_process");
const readline = require("node:readline");
(async () => {
  const p = spawn("bookingsync", ["fake", "--addr", "127.0.0.1:0"]);
  const lines = readline.createInterface({ input: p.stdout })[Symbol.asyncIterator]();
  const url = (await lines.next()).value.split(" ").pop();
  const token = (await lines.next()).value.split(" ").pop();
  const r = await fetch(url + "/api/v3/inbox/conversations", { headers: { Authorization: "Bearer " + token } });
  console.log((await r.json()).conversations.length, "conversations");
  p.on("exit", (code) => console.log("exit", code));
  p.kill();
})();
`

var recipeOutput = regexp.MustCompile(`^[34] conversations\nexit 0\n$`)

func TestRecipes(t *testing.T) {
	for _, tc := range []struct{ name, interp, flag, script string }{
		{"python", "python3", "-c", pythonRecipe},
		{"node", "node", "-e", nodeRecipe},
	} {
		t.Run(tc.name, func(t *testing.T) {
			interp, err := exec.LookPath(tc.interp)
			if err != nil {
				t.Skipf("no %s on PATH", tc.interp)
			}
			cmd := exec.Command(interp, tc.flag, tc.script)
			cmd.Env = append(baseEnv(t, nil), "PATH="+filepath.Dir(binary)+string(os.PathListSeparator)+os.Getenv("PATH"))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			// The seeded account's conversations (three, four once the
			// delayed one appears); the fake stops cleanly on SIGTERM.
			if got := string(out); !recipeOutput.MatchString(got) {
				t.Errorf("output %q", got)
			}
		})
	}
}
