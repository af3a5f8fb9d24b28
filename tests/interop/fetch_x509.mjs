// An independent SPIFFE Workload API client: gRPC in pure JavaScript
// (@grpc/grpc-js), sharing no code with reattest but the .proto file.
// Usage: node fetch_x509.mjs SOCKET_PATH EXPECTED_SPIFFE_ID
// Exits 0 when the first X509SVIDResponse carries the expected SVID, issued
// by a CA in its bundle, with a private key that matches the certificate.
import { securityHeader, svidProblem, workloadClient } from './svid.mjs';

const [socketPath, expectedId] = process.argv.slice(2);

function fail(message) {
  console.error(`interop: ${message}`);
  process.exit(1);
}

const client = workloadClient(socketPath);
const call = client.FetchX509SVID({}, securityHeader(), { deadline: Date.now() + 10000 });
call.on('data', (response) => {
  const svid = response.svids[0];
  if (!svid) fail('no svids in the first response');
  if (svid.spiffe_id !== expectedId) fail(`got ${svid.spiffe_id}, want ${expectedId}`);
  const problem = svidProblem(svid);
  if (problem) fail(problem);
  console.log(`interop: ${svid.spiffe_id} verified`);
  call.cancel();
  process.exit(0);
});
call.on('error', (error) => fail(`${error.code}: ${error.details}`));
