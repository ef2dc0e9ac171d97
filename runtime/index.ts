export { GlimpserRuntime, type RuntimeAddresses } from './app';
export { loadConfig, ConfigError, type Config } from './config';
export { createLogger } from './logger';
