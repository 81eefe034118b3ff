// The weather message: client input (validation, normalisation, ids) and the broker envelope.
export * from './envelope.ts';
export * from './input.ts';
