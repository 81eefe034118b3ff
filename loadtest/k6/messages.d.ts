// Types of messages.js for the Node side (the bench's body files); k6 runs the JavaScript as it is.
export interface GeneratedMessage {
  description: string;
  country: string;
  weather: string;
  id?: string;
}

export function prng(seed: number): () => number;

export function messageGenerator(
  random: () => number,
  spanishShare: number,
): { message(): GeneratedMessage; invalidMessage(): Partial<GeneratedMessage> };
