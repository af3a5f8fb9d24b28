// An independent Envoy-like SDS client that keeps one StreamSecrets stream
// open: subscribes to the names given, ACKs every response with its version
// and nonce as Envoy does, and prints each response as `+ NAME` lines and
// then `update N VERSION` (the output of tests/docker/sds_watch), so the
// Docker tests can drive either. Exits 1 when the stream ends.
// Usage: node watch_sds.mjs SOCKET_PATH NAME...
import { envoyNode, sdsClient, secretType } from './sds.mjs';

const [socketPath, ...names] = process.argv.slice(2);
let update = 0;

const call = sdsClient(socketPath).StreamSecrets();
call.on('data', (response) => {
  update += 1;
  call.write({
    type_url: secretType,
    version_info: response.version_info,
    response_nonce: response.nonce,
    resource_names: names,
  });
  const lines = response.resources.map((secret) => `+ ${secret.name}\n`).join('');
  // One write, so a reader that sees the update line has its names too.
  process.stdout.write(`${lines}update ${update} ${response.version_info}\n`);
});
call.on('error', (error) => {
  process.stdout.write(`ended ${error.code}: ${error.details}\n`);
  process.exit(1);
});
call.write({ node: envoyNode, type_url: secretType, resource_names: names });
