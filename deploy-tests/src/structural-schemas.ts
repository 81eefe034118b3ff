/**
 * Hand-written JSON Schemas for custom resources checked without their CRD (these take precedence): the RabbitMQ
 * messaging topology operator's Queue, User and Permission, the Prometheus Operator's ServiceMonitor, Strimzi's
 * KafkaUser and KEDA's TriggerAuthentication (neither CRD is among the pinned files: src/crd-source.ts). They are
 * written from those operators' CRDs and API references and cover only the fields these manifests use (anything
 * else is refused, so a new field must be added here on purpose). This is a structural check, not the real CRD:
 * whether the operators accept the resources is only known on a cluster.
 */

const objectMeta = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1 },
    namespace: { type: 'string' },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
  additionalProperties: false,
};

const clusterReference = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1 }, namespace: { type: 'string' } },
  additionalProperties: false,
};

/** A non-empty string. */
const text = { type: 'string', minLength: 1 };

/** An object of these properties and no others. */
const closedObject = (required: string[], properties: Record<string, unknown>) => ({
  type: 'object',
  required,
  properties,
  additionalProperties: false,
});

const resource = (apiVersion: string, kind: string, spec: Record<string, unknown>) => ({
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: apiVersion },
    kind: { const: kind },
    metadata: objectMeta,
    spec,
  },
  additionalProperties: false,
});

export const structuralSchemas: Record<string, Record<string, unknown>> = {
  'rabbitmq.com/v1beta1/Queue': resource('rabbitmq.com/v1beta1', 'Queue', {
    type: 'object',
    required: ['name', 'rabbitmqClusterReference'],
    properties: {
      name: { type: 'string', minLength: 1 },
      vhost: { type: 'string' },
      type: { enum: ['quorum', 'classic', 'stream'] },
      durable: { type: 'boolean' },
      autoDelete: { type: 'boolean' },
      arguments: { type: 'object' },
      deleteIfEmpty: { type: 'boolean' },
      deleteIfUnused: { type: 'boolean' },
      deletionPolicy: { enum: ['delete', 'retain'] },
      rabbitmqClusterReference: clusterReference,
    },
    additionalProperties: false,
  }),
  'rabbitmq.com/v1beta1/User': resource('rabbitmq.com/v1beta1', 'User', {
    type: 'object',
    required: ['rabbitmqClusterReference'],
    properties: {
      tags: { type: 'array', items: { enum: ['management', 'policymaker', 'monitoring', 'administrator'] } },
      importCredentialsSecret: {
        type: 'object',
        required: ['name'],
        properties: { name: { type: 'string', minLength: 1 } },
        additionalProperties: false,
      },
      rabbitmqClusterReference: clusterReference,
    },
    additionalProperties: false,
  }),
  'rabbitmq.com/v1beta1/Permission': resource('rabbitmq.com/v1beta1', 'Permission', {
    type: 'object',
    required: ['vhost', 'permissions', 'rabbitmqClusterReference'],
    oneOf: [{ required: ['user'] }, { required: ['userReference'] }],
    properties: {
      vhost: { type: 'string', minLength: 1 },
      user: { type: 'string', minLength: 1 },
      userReference: {
        type: 'object',
        required: ['name'],
        properties: { name: { type: 'string', minLength: 1 }, namespace: { type: 'string' } },
        additionalProperties: false,
      },
      permissions: {
        type: 'object',
        properties: { configure: { type: 'string' }, write: { type: 'string' }, read: { type: 'string' } },
        additionalProperties: false,
      },
      rabbitmqClusterReference: clusterReference,
    },
    additionalProperties: false,
  }),
  // Strimzi 0.49's KafkaUser (044-Crd-kafkauser.yaml): authentication, authorization, quotas and template exist;
  // these manifests use authentication only.
  'kafka.strimzi.io/v1/KafkaUser': resource('kafka.strimzi.io/v1', 'KafkaUser', {
    type: 'object',
    properties: {
      authentication: closedObject(['type'], {
        type: { enum: ['tls', 'tls-external', 'scram-sha-512'] },
        password: closedObject(['valueFrom'], {
          valueFrom: closedObject(['secretKeyRef'], {
            secretKeyRef: closedObject(['name', 'key'], { name: text, key: text }),
          }),
        }),
      }),
    },
    additionalProperties: false,
  }),
  // KEDA v2.20's TriggerAuthentication (keda.sh_triggerauthentications.yaml): of its many sources, `env` (a variable
  // of the scale target's container) and `secretTargetRef`.
  'keda.sh/v1alpha1/TriggerAuthentication': resource('keda.sh/v1alpha1', 'TriggerAuthentication', {
    type: 'object',
    minProperties: 1,
    properties: {
      env: {
        type: 'array',
        minItems: 1,
        items: closedObject(['parameter', 'name'], { parameter: text, name: text, containerName: text }),
      },
      secretTargetRef: {
        type: 'array',
        minItems: 1,
        items: closedObject(['parameter', 'name', 'key'], { parameter: text, name: text, key: text }),
      },
    },
    additionalProperties: false,
  }),
  'monitoring.coreos.com/v1/ServiceMonitor': resource('monitoring.coreos.com/v1', 'ServiceMonitor', {
    type: 'object',
    required: ['selector', 'endpoints'],
    properties: {
      selector: {
        type: 'object',
        properties: {
          matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
          matchExpressions: { type: 'array' },
        },
        additionalProperties: false,
      },
      namespaceSelector: { type: 'object' },
      jobLabel: { type: 'string' },
      endpoints: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          properties: {
            port: { type: 'string', minLength: 1 },
            path: { type: 'string', pattern: '^/' },
            interval: { type: 'string', pattern: '^[0-9]+(ms|s|m|h)$' },
            scrapeTimeout: { type: 'string', pattern: '^[0-9]+(ms|s|m|h)$' },
            scheme: { enum: ['http', 'https'] },
          },
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  }),
};
