export {
  type Instance,
  type LaunchOptions,
  launchSystem,
  plan,
  profiling,
  type System,
  withDatabase,
} from './launcher.ts';
export {
  type PortVariable,
  type ServiceName,
  type ServicePort,
  type ServiceSpec,
  service,
  serviceNames,
  services,
} from './services.ts';
