// Starts appsync-local with --tls (a fresh self-signed certificate), then runs the Amplify tests
// in test/ with Node's test runner, trusting that certificate through NODE_EXTRA_CA_CERTS: the
// same set-up a front-end developer uses, with Amplify JS unmodified.
//
// APPSYNC_LOCAL_BIN names the server binary (default: the workspace's target/debug build).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const workspace = path.resolve(here, '../../..');
const bin = process.env.APPSYNC_LOCAL_BIN ?? path.join(workspace, 'target/debug/appsync-local');
const handlers = path.resolve(here, '../handlers');

export const API_KEY = 'da2-amplify-test';
export const IAM = { accessKeyId: 'AKIDAMPLIFYTEST', secretAccessKey: 'amplify-test-secret' };

const server = spawn(bin, [
  '--port', '0', '--tls',
  '--api-key', API_KEY,
  '--iam', `${IAM.accessKeyId}:${IAM.secretAccessKey}`,
  '--namespace', 'default',
  '--handler', `chat=${path.join(handlers, 'chat.js')}`,
  '--handler', `broken=${path.join(handlers, 'broken.js')}`,
  '--handler', `slow=${path.join(handlers, 'slow.js')}`,
  '--handler-timeout-ms', '300',
], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' } });
server.on('error', (e) => {
  console.error(`cannot start ${bin}: ${e.message} (build it with cargo build -p appsync-local)`);
  process.exit(1);
});

const banner = {};
const lines = createInterface({ input: server.stdout });
for await (const line of lines) {
  const [label, ...rest] = line.trim().split(': ');
  banner[label] = rest.join(': ').trim();
  if (label === 'auth') break;
}
if (!banner['HTTP endpoint'] || !banner.certificate) {
  console.error(`appsync-local did not print its endpoint and certificate: ${JSON.stringify(banner)}`);
  server.kill();
  process.exit(1);
}
console.log(`appsync-local at ${banner['HTTP endpoint']}, certificate ${banner.certificate}`);

// Amplify opens its socket with the global WebSocket: built in from Node 22, behind a flag in 20.
// Amplify leaves a 15 s connection_init timer running after every connect (harmless in a page,
// but it holds a Node process open): --test-force-exit ends each file when its tests are done.
const major = Number(process.versions.node.split('.')[0]);
const flags = [...(major < 22 ? ['--experimental-websocket'] : []), '--test-force-exit'];
const files = process.argv.slice(2);
const tests = spawn(process.execPath, [...flags, '--test', '--test-reporter=spec', ...(files.length ? files : ['test/'])], {
  cwd: here,
  stdio: 'inherit',
  env: {
    ...process.env,
    NODE_EXTRA_CA_CERTS: banner.certificate,
    APPSYNC_LOCAL_ENDPOINT: banner['HTTP endpoint'],
    APPSYNC_LOCAL_API_KEY: API_KEY,
    APPSYNC_LOCAL_ACCESS_KEY_ID: IAM.accessKeyId,
    APPSYNC_LOCAL_SECRET_ACCESS_KEY: IAM.secretAccessKey,
  },
});
const code = await new Promise((resolve) => tests.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
server.kill('SIGINT');
process.exit(code);
