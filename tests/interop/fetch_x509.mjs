// An independent SPIFFE Workload API client: gRPC in pure JavaScript
// (@grpc/grpc-js), sharing no code with reattest but the .proto file.
// Usage: node fetch_x509.mjs SOCKET_PATH EXPECTED_SPIFFE_ID
// Exits 0 when the first X509SVIDResponse carries the expected SVID, issued
// by a CA in its bundle, with a private key that matches the certificate.
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const [socketPath, expectedId] = process.argv.slice(2);
const here = path.dirname(fileURLToPath(import.meta.url));
const definition = protoLoader.loadSync(path.join(here, '../../proto/workload.proto'), {
  keepCase: true,
  includeDirs: ['/usr/include'],
});
const api = grpc.loadPackageDefinition(definition);
const client = new api.SpiffeWorkloadAPI(`unix://${socketPath}`, grpc.credentials.createInsecure());

// DER certificates are concatenated; each starts with a SEQUENCE header
// whose length tells where the next begins.
function splitDer(buffer) {
  const certs = [];
  let offset = 0;
  while (offset < buffer.length) {
    const lengthByte = buffer[offset + 1];
    let length = lengthByte;
    let header = 2;
    if (lengthByte & 0x80) {
      const count = lengthByte & 0x7f;
      length = 0;
      for (let i = 0; i < count; i++) length = (length << 8) | buffer[offset + 2 + i];
      header = 2 + count;
    }
    certs.push(new X509Certificate(buffer.subarray(offset, offset + header + length)));
    offset += header + length;
  }
  return certs;
}

function fail(message) {
  console.error(`interop: ${message}`);
  process.exit(1);
}

const metadata = new grpc.Metadata();
metadata.set('workload.spiffe.io', 'true');
const call = client.FetchX509SVID({}, metadata, { deadline: Date.now() + 10000 });
call.on('data', (response) => {
  const svid = response.svids[0];
  if (!svid) fail('no svids in the first response');
  if (svid.spiffe_id !== expectedId) fail(`got ${svid.spiffe_id}, want ${expectedId}`);
  const [leaf] = splitDer(svid.x509_svid);
  const roots = splitDer(svid.bundle);
  if (!roots.some((root) => leaf.checkIssued(root) && leaf.verify(root.publicKey))) {
    fail('leaf is not signed by any CA in the bundle');
  }
  if (!leaf.subjectAltName.includes(`URI:${expectedId}`)) fail(`SAN is ${leaf.subjectAltName}`);
  const key = createPrivateKey({ key: svid.x509_svid_key, format: 'der', type: 'pkcs8' });
  const derived = createPublicKey(key).export({ format: 'der', type: 'spki' });
  if (!derived.equals(leaf.publicKey.export({ format: 'der', type: 'spki' }))) {
    fail('private key does not match the certificate');
  }
  console.log(`interop: ${svid.spiffe_id} verified`);
  call.cancel();
  process.exit(0);
});
call.on('error', (error) => fail(`${error.code}: ${error.details}`));
