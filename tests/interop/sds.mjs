// What both JavaScript SDS clients need: our Envoy protos loaded with
// @grpc/proto-loader, a SecretDiscoveryService client, and how an Envoy
// names itself and the secret type.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const here = path.dirname(fileURLToPath(import.meta.url));
const protoDir = path.join(here, '../../proto');

export const secretType = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';
export const envoyNode = { id: 'interop-envoy', cluster: 'interop', user_agent_name: 'envoy' };

export function sdsClient(socketPath) {
  const definition = protoLoader.loadSync(
    [
      'envoy/service/secret/v3/sds.proto',
      'envoy/extensions/transport_sockets/tls/v3/secret.proto',
      'envoy/extensions/transport_sockets/tls/v3/tls_spiffe_validator_config.proto',
    ],
    // json: Any values are decoded into their message, with an `@type`.
    { keepCase: true, json: true, includeDirs: [protoDir, '/usr/include'] },
  );
  const api = grpc.loadPackageDefinition(definition);
  return new api.envoy.service.secret.v3.SecretDiscoveryService(
    `unix://${socketPath}`,
    grpc.credentials.createInsecure(),
  );
}
