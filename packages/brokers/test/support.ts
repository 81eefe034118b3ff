import { loadStackEnv } from '@tandem/config';
import type { BrokerLogger } from '../src/index.ts';

loadStackEnv();

export function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: start the local stack (npm run stack:up) or set it`);
  return value;
}

/**
 * Quiet by default: the suite provokes failures on purpose, and kafkajs logs each one. BROKERS_TEST_LOG=1 shows
 * warnings and errors.
 */
const verbose = process.env.BROKERS_TEST_LOG === '1';
const ignore = () => {};
export const testLogger: BrokerLogger = {
  debug: ignore,
  info: ignore,
  warn: verbose ? (fields, message) => console.warn(message, fields) : ignore,
  error: verbose ? (fields, message) => console.error(message, fields) : ignore,
};

export const suffix = () => Math.random().toString(36).slice(2, 10);
