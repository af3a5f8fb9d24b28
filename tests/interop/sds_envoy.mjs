// An independent Envoy-like SDS client: gRPC in pure JavaScript
// (@grpc/grpc-js), sharing no code with reattest but the .proto files.
// Usage: node sds_envoy.mjs SOCKET_PATH EXPECTED_SPIFFE_ID
// Speaks StreamSecrets the way Envoy does (node on the first request, ACK
// with version and nonce, a change of names answering the last nonce) and
// DeltaSecrets; exits 0 when `default` chains to `ROOTCA`'s SPIFFE-validated
// bundle with a matching key, the SPIFFE ID is served on a names change and
// the delta stream sends ROOTCA with a version.
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import grpc from '@grpc/grpc-js';
import { envoyNode as node, sdsClient, secretType } from './sds.mjs';

const [socketPath, expectedId] = process.argv.slice(2);
const client = sdsClient(socketPath);

function fail(message) {
  console.error(`interop: ${message}`);
  process.exit(1);
}

function pemCertificates(pem) {
  const blocks = pem.toString().match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g);
  return (blocks || []).map((block) => new X509Certificate(block));
}

function checkFirst(response) {
  if (response.type_url !== secretType) fail(`type_url ${response.type_url}`);
  if (!response.version_info || !response.nonce) fail('missing version_info or nonce');
  const secrets = Object.fromEntries(response.resources.map((secret) => [secret.name, secret]));
  const svid = secrets.default?.tls_certificate;
  const validator = secrets.ROOTCA?.validation_context?.custom_validator_config;
  if (!svid || !validator) fail(`want default and ROOTCA, got ${Object.keys(secrets)}`);
  if (validator.name !== 'envoy.tls.cert_validator.spiffe') fail(`validator ${validator.name}`);
  const [trustDomain] = validator.typed_config.trust_domains;
  if (trustDomain.name !== 'example.org') fail(`trust domain ${trustDomain.name}`);

  const [leaf] = pemCertificates(svid.certificate_chain.inline_bytes);
  const roots = pemCertificates(trustDomain.trust_bundle.inline_bytes);
  if (!roots.some((root) => leaf.checkIssued(root) && leaf.verify(root.publicKey))) {
    fail('default is not signed by any CA of ROOTCA');
  }
  if (!leaf.subjectAltName.includes(`URI:${expectedId}`)) fail(`SAN is ${leaf.subjectAltName}`);
  const key = createPrivateKey({ key: svid.private_key.inline_bytes, format: 'pem' });
  const derived = createPublicKey(key).export({ format: 'der', type: 'spki' });
  if (!derived.equals(leaf.publicKey.export({ format: 'der', type: 'spki' }))) {
    fail('private key does not match the certificate');
  }
}

function streamSecrets() {
  return new Promise((resolve) => {
    const call = client.StreamSecrets({ deadline: Date.now() + 10000 });
    let responses = 0;
    call.on('data', (response) => {
      responses += 1;
      if (responses === 1) {
        checkFirst(response);
        // ACK and ask for the SPIFFE ID instead, in one request, as Envoy does.
        call.write({
          type_url: secretType,
          version_info: response.version_info,
          response_nonce: response.nonce,
          resource_names: [expectedId],
        });
        return;
      }
      const names = response.resources.map((secret) => secret.name);
      if (names.join() !== expectedId) fail(`after a names change got ${names}`);
      call.cancel();
      resolve();
    });
    call.on('error', (error) => {
      if (error.code !== grpc.status.CANCELLED) fail(`StreamSecrets ${error.code}: ${error.details}`);
    });
    call.write({ node, type_url: secretType, resource_names: ['default', 'ROOTCA'] });
  });
}

function deltaSecrets() {
  return new Promise((resolve) => {
    const call = client.DeltaSecrets({ deadline: Date.now() + 10000 });
    call.on('data', (response) => {
      const [resource] = response.resources;
      if (!resource || resource.name !== 'ROOTCA' || !resource.version) {
        fail(`delta: want ROOTCA with a version, got ${JSON.stringify(response.resources)}`);
      }
      if (resource.resource.name !== 'ROOTCA') fail('delta: secret not named ROOTCA');
      call.cancel();
      resolve();
    });
    call.on('error', (error) => {
      if (error.code !== grpc.status.CANCELLED) fail(`DeltaSecrets ${error.code}: ${error.details}`);
    });
    call.write({ node, type_url: secretType, resource_names_subscribe: ['ROOTCA'] });
  });
}

await streamSecrets();
await deltaSecrets();
console.log(`interop: SDS default, ROOTCA and ${expectedId} verified`);
process.exit(0);
