// What both interop clients need: loading our .proto with @grpc/proto-loader
// and checking an X509SVID with Node's own crypto, no reattest code involved.
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const here = path.dirname(fileURLToPath(import.meta.url));

export function workloadClient(socketPath) {
  const definition = protoLoader.loadSync(path.join(here, '../../proto/workload.proto'), {
    keepCase: true,
    includeDirs: ['/usr/include'],
  });
  const api = grpc.loadPackageDefinition(definition);
  return new api.SpiffeWorkloadAPI(`unix://${socketPath}`, grpc.credentials.createInsecure());
}

export function securityHeader() {
  const metadata = new grpc.Metadata();
  metadata.set('workload.spiffe.io', 'true');
  return metadata;
}

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

// Returns why `svid` is not a valid SVID for its own spiffe_id, or null.
export function svidProblem(svid) {
  const [leaf] = splitDer(svid.x509_svid);
  const roots = splitDer(svid.bundle);
  if (!roots.some((root) => leaf.checkIssued(root) && leaf.verify(root.publicKey))) {
    return 'leaf is not signed by any CA in the bundle';
  }
  if (!leaf.subjectAltName.includes(`URI:${svid.spiffe_id}`)) {
    return `SAN is ${leaf.subjectAltName}`;
  }
  const key = createPrivateKey({ key: svid.x509_svid_key, format: 'der', type: 'pkcs8' });
  const derived = createPublicKey(key).export({ format: 'der', type: 'spki' });
  if (!derived.equals(leaf.publicKey.export({ format: 'der', type: 'spki' }))) {
    return 'private key does not match the certificate';
  }
  return null;
}
