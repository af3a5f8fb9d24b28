// An independent check of reattest's JWT-SVIDs: a pure-JavaScript gRPC
// client fetches a token and the JWT bundle, verifies the ES256 signature
// with Node's own crypto against the JWKS, then asks the agent to validate it.
// Usage: node fetch_jwt.mjs SOCKET_PATH EXPECTED_SPIFFE_ID
import { createPublicKey, verify } from 'node:crypto';
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
const options = () => ({ deadline: Date.now() + 10000 });
const metadata = new grpc.Metadata();
metadata.set('workload.spiffe.io', 'true');

function fail(message) {
  console.error(`interop: ${message}`);
  process.exit(1);
}

const unary = (method, request) =>
  new Promise((resolve, reject) => {
    client[method](request, metadata, options(), (error, response) =>
      error ? reject(error) : resolve(response));
  });

const firstJwks = () =>
  new Promise((resolve, reject) => {
    const call = client.FetchJWTBundles({}, metadata, options());
    call.on('data', (response) => {
      call.cancel();
      resolve(response.bundles);
    });
    call.on('error', reject);
  });

const decode = (part) => JSON.parse(Buffer.from(part, 'base64url').toString());

try {
  const fetched = await unary('FetchJWTSVID', { audience: ['interop'] });
  const svid = fetched.svids[0];
  if (!svid || svid.spiffe_id !== expectedId) fail(`got ${svid?.spiffe_id}, want ${expectedId}`);
  const [header, payload, signature] = svid.svid.split('.');
  const { alg, kid } = decode(header);
  const claims = decode(payload);
  if (alg !== 'ES256') fail(`alg is ${alg}`);
  if (claims.sub !== expectedId || !claims.aud.includes('interop')) fail('wrong sub or aud');

  const bundles = await firstJwks();
  const jwks = JSON.parse(Buffer.from(bundles['spiffe://example.org']).toString());
  const jwk = jwks.keys.find((key) => key.kid === kid);
  if (!jwk || jwk.use !== 'jwt-svid') fail(`no jwt-svid key ${kid} in the JWKS`);
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const input = Buffer.from(`${header}.${payload}`);
  const sig = Buffer.from(signature, 'base64url');
  if (!verify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, sig)) {
    fail('the signature does not verify against the JWKS');
  }

  const validated = await unary('ValidateJWTSVID', { audience: 'interop', svid: svid.svid });
  if (validated.spiffe_id !== expectedId) fail(`validated as ${validated.spiffe_id}`);
  if (validated.claims.fields.sub.stringValue !== expectedId) fail('claims lack sub');
  console.log(`interop: JWT-SVID of ${expectedId} verified and validated`);
  process.exit(0);
} catch (error) {
  fail(`${error.code}: ${error.details ?? error.message}`);
}
