// An independent Workload API client that keeps one FetchX509SVID stream
// open and prints every message as `reattest api watch` does (`update N`,
// then `  + ID` for each SPIFFE ID new on the stream and `  - ID` for each
// gone), so the Docker tests can drive it like the built-in watcher. Every
// SVID is checked against its bundle with Node's crypto; a bad one ends the
// process with status 1.
// Usage: node watch_x509.mjs SOCKET_PATH
import { securityHeader, svidProblem, workloadClient } from './svid.mjs';

const [socketPath] = process.argv.slice(2);
const started = Date.now();
let update = 0;
let previous = new Set();

const call = workloadClient(socketPath).FetchX509SVID({}, securityHeader());
call.on('data', (response) => {
  update += 1;
  const seconds = ((Date.now() - started) / 1000).toFixed(3);
  console.log(`update ${update} after ${seconds}s: ${response.svids.length} svids`);
  const current = new Set();
  for (const svid of response.svids) {
    const problem = svidProblem(svid);
    if (problem) {
      console.log(`bad svid ${svid.spiffe_id}: ${problem}`);
      process.exit(1);
    }
    current.add(svid.spiffe_id);
    if (!previous.has(svid.spiffe_id)) console.log(`  + ${svid.spiffe_id}`);
  }
  for (const id of previous) {
    if (!current.has(id)) console.log(`  - ${id}`);
  }
  previous = current;
});
call.on('error', (error) => {
  console.log(`stream ended: ${error.code}: ${error.details}`);
  process.exit(0);
});
