/**
 * HTTPS and WSS: the app serves TLS with a certificate this test makes (its
 * own CA, by openssl), and the SDK in a Deno subprocess that trusts that CA
 * (`--cert`) connects over WSS, joins and gets its message back.
 *
 * `deno task build && bash tests/netns.sh deno test -A tests/security/tls_test.ts`
 *
 * @module
 */
import assert from "node:assert/strict";
import { signToken } from "../../lib/server/auth.ts";
import { REPO_ROOT } from "../_helpers/process.ts";
import { startApp } from "../_helpers/server.ts";

async function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

/** A CA and a server certificate for localhost / 127.0.0.1 signed by it, in `dir`. */
async function makeCertificates(dir: string): Promise<void> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run("openssl", [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=Parley Test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ], dir);
  await run("openssl", [
    "req",
    ...ec,
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=localhost",
  ], dir);
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" +
      "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
  );
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
  ], dir);
}

Deno.test({
  name: "TLS: HTTPS pages and the SDK over WSS, trusting the test's CA",
  ignore: (await new Deno.Command("which", { args: ["openssl"], stdout: "null" }).output())
    .code !== 0,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "parley-tls-" });
    try {
      await makeCertificates(dir);
      const ca = await Deno.readTextFile(`${dir}/ca.pem`);
      const secret = "tls-test-secret";
      await using app = await startApp({
        runner: "run",
        caCert: ca,
        env: {
          PARLEY_TLS_CERT: `${dir}/server.pem`,
          PARLEY_TLS_KEY: `${dir}/server.key`,
          PARLEY_AUTH_SECRET: secret,
        },
      });
      assert.match(app.url, /^https:/);
      assert.match(app.wsUrl, /^wss:/);

      const client = Deno.createHttpClient({ caCerts: [ca] });
      try {
        const page = await fetch(`${app.url}/`, { client });
        assert.equal(page.status, 200);
        assert.match(await page.text(), /<!DOCTYPE html>/);
      } finally {
        client.close();
      }
      // Without the CA, the certificate is not trusted.
      await assert.rejects(fetch(`${app.url}/api/health`), (e: Error) => {
        assert.match(String(e.cause ?? e), /certificate|issuer/i);
        return true;
      });

      const sub = crypto.randomUUID();
      const token = await signToken(secret, { sub, rooms: ["tls-*"] });
      const args = ["run", "-A", "--cert", `${dir}/ca.pem`];
      if (Deno.env.get("PARLEY_NETNS") === "1") args.push("--cached-only");
      const script = `${REPO_ROOT}tests/security/fixtures/wss_client.ts`;
      const output = await run(Deno.execPath(), [...args, script, app.wsUrl, token], REPO_ROOT);
      const result = JSON.parse(output.trim().split("\n").at(-1)!);
      assert.deepEqual(result, { ok: true, user_id: sub, message: { text: "over wss" } });

      // The same client without trusting the CA cannot connect.
      const untrusted = await run(
        Deno.execPath(),
        [...args.filter((a) => a !== "--cert" && !a.endsWith("ca.pem")), script, app.wsUrl, token],
        REPO_ROOT,
      );
      assert.equal(JSON.parse(untrusted.trim().split("\n").at(-1)!).ok, false);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
