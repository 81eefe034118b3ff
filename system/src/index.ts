export {
  type Instance,
  type LaunchOptions,
  launchSystem,
  plan,
  processEnv,
  profiling,
  type System,
  withDatabase,
} from './launcher.ts';
export { type LivePage, livePagePort, startLivePageFor } from './live.ts';
export {
  type LocalPrometheus,
  localPrometheusConfig,
  metricsPath,
  type PrometheusOptions,
  prometheusPort,
  startPrometheus,
} from './prometheus.ts';
export { compileCacheDir, nodeOptions, runtimeEnv, serviceRuntime } from './runtime.ts';
export {
  type PortVariable,
  type ServiceName,
  type ServicePort,
  type ServiceSpec,
  service,
  serviceNames,
  services,
} from './services.ts';
