// The one bounded retry of the tools' broker calls, with a scripted kafkajs admin and a scripted amqplib connection:
// logic only, no broker (the real-broker paths run in kafka.test.ts, rabbitmq.faults.test.ts and remove.test.ts).
import type { ChannelModel } from 'amqplib';
import type { Admin } from 'kafkajs';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { kafkaGroupBacklog } from '../src/kafka/backlog.ts';
import { withKafkaAdmin } from '../src/kafka/client.ts';
import { rabbitQueueBacklog } from '../src/rabbitmq/backlog.ts';
import {
  isRetriableAmqpError,
  isRetriableKafkaError,
  RetriesExhaustedError,
  retrying,
} from '../src/retry.ts';

/** What kafkajs 2.2.4 throws for a NOT_COORDINATOR answer: a KafkaJSProtocolError, marked retriable. */
function notCoordinator(): Error {
  return Object.assign(new Error('This is not the correct coordinator for this group'), {
    name: 'KafkaJSProtocolError',
    type: 'NOT_COORDINATOR',
    code: 16,
    retriable: true,
  });
}

function groupAuthorizationFailed(): Error {
  return Object.assign(new Error('Not authorized to access group'), {
    name: 'KafkaJSProtocolError',
    type: 'GROUP_AUTHORIZATION_FAILED',
    code: 30,
    retriable: false,
  });
}

type Answer = 'answer' | (() => Error);

/**
 * Fake kafkajs admins for one topic `t` of two partitions (high watermarks 10 and 5, nothing committed), whose
 * offset fetches follow `script` across every admin made, the last entry repeating.
 */
function scriptedAdmins(script: Answer[]) {
  const made: { connected: boolean; disconnected: boolean }[] = [];
  let fetches = 0;
  const createAdmin = () => {
    const state = { connected: false, disconnected: false };
    made.push(state);
    const admin = {
      async connect() {
        state.connected = true;
      },
      async disconnect() {
        state.disconnected = true;
      },
      async listTopics() {
        return ['t'];
      },
      async fetchTopicOffsets() {
        return [
          { partition: 0, offset: '10', high: '10', low: '0' },
          { partition: 1, offset: '5', high: '5', low: '0' },
        ];
      },
      async fetchOffsets() {
        const answer = script[Math.min(fetches, script.length - 1)] as Answer;
        fetches += 1;
        if (answer !== 'answer') throw answer();
        return [{ topic: 't', partitions: [{ partition: 0, offset: '-1', metadata: null }] }];
      },
    };
    return admin as unknown as Admin;
  };
  return { createAdmin, made, fetches: () => fetches };
}

function fakeClock() {
  vi.useFakeTimers();
  onTestFinished(() => {
    vi.useRealTimers();
  });
}

/** Settles `promise` while the fake clock runs every timer it waits for. */
async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: Error }> {
  const outcome = promise.then(
    (value) => ({ value }),
    (error: Error) => ({ error }),
  );
  await vi.runAllTimersAsync();
  return outcome;
}

/** kafkaGroupBacklog of group `g` on topic `t`, on scripted admins. */
const backlogOf = (
  admins: ReturnType<typeof scriptedAdmins>,
  more: Partial<Parameters<typeof kafkaGroupBacklog>[0]> = {},
) =>
  kafkaGroupBacklog({
    brokers: ['kafka:9092'],
    topic: 't',
    groupId: 'g',
    createAdmin: admins.createAdmin,
    ...more,
  });

describe('withKafkaAdmin (through kafkaGroupBacklog, the call that failed the fault suite)', () => {
  it('retries a NOT_COORDINATOR on a fresh admin, and the answer comes through', async () => {
    fakeClock();
    const admins = scriptedAdmins([notCoordinator, 'answer']);
    const outcome = await settle(backlogOf(admins));
    expect(outcome).toEqual({ value: 15 });
    expect(admins.fetches()).toBe(2);
    expect(admins.made).toEqual([
      { connected: true, disconnected: true },
      { connected: true, disconnected: true },
    ]);
  });

  it('does not retry an error kafkajs does not call retriable: it rejects at once, with its message', async () => {
    fakeClock();
    const admins = scriptedAdmins([groupAuthorizationFailed, 'answer']);
    const outcome = await settle(backlogOf(admins));
    expect(outcome.error?.message).toBe('Not authorized to access group');
    expect(admins.fetches()).toBe(1);
    expect(admins.made).toEqual([{ connected: true, disconnected: true }]);
  });

  it('gives up at the bound, saying how many attempts were made and what the last one met', async () => {
    fakeClock();
    const admins = scriptedAdmins([notCoordinator]);
    const outcome = await settle(
      backlogOf(admins, { retry: { timeoutMs: 2_000, initialDelayMs: 100, maxDelayMs: 400 } }),
    );
    const error = outcome.error as RetriesExhaustedError;
    expect(error).toBeInstanceOf(RetriesExhaustedError);
    // Pauses of 50–100, 100–200, then 200–400 ms each, the last one cut at the bound: 7 to 13 attempts in 2 s.
    expect(error.attempts).toBe(admins.fetches());
    expect(error.attempts).toBeGreaterThanOrEqual(7);
    expect(error.attempts).toBeLessThanOrEqual(13);
    expect(error.message).toBe(
      `kafka admin tandem-backlog (kafka:9092): gave up after ${error.attempts} attempts (bound 2000 ms); ` +
        'last error: KafkaJSProtocolError: This is not the correct coordinator for this group',
    );
    expect((error.cause as { type?: string }).type).toBe('NOT_COORDINATOR');
    expect(admins.made.every((admin) => admin.disconnected)).toBe(true);
  });

  it('retries a failed connect too, and disconnects that admin', async () => {
    fakeClock();
    let connects = 0;
    const disconnects: number[] = [];
    const createAdmin = () => {
      const id = connects;
      return {
        async connect() {
          connects += 1;
          // What kafkajs throws once its own connection retries ran out: marked non-retriable, the cause is not.
          if (id === 0) {
            const refused = Object.assign(new Error('Connection error: connect ECONNREFUSED'), {
              name: 'KafkaJSConnectionError',
              retriable: true,
            });
            throw Object.assign(new Error(refused.message, { cause: refused }), {
              name: 'KafkaJSNumberOfRetriesExceeded',
              retriable: false,
            });
          }
        },
        async disconnect() {
          disconnects.push(id);
        },
      } as unknown as Admin;
    };
    const outcome = await settle(
      withKafkaAdmin({ brokers: ['kafka:9092'], createAdmin, logger: silent }, async () => 'done'),
    );
    expect(outcome).toEqual({ value: 'done' });
    expect(connects).toBe(2);
    expect(disconnects).toEqual([0, 1]);
  });
});

const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe('retrying', () => {
  it('doubles its pauses, with jitter between half and all of each, up to maxDelayMs and never past the bound', async () => {
    fakeClock();
    const delays: number[] = [];
    const outcome = await settle(
      retrying(
        async () => {
          throw notCoordinator();
        },
        {
          what: 'test',
          timeoutMs: 1_000,
          initialDelayMs: 100,
          maxDelayMs: 300,
          isRetriable: isRetriableKafkaError,
          onRetry: ({ delayMs }) => delays.push(delayMs),
        },
      ),
    );
    expect(outcome.error).toBeInstanceOf(RetriesExhaustedError);
    delays.forEach((delay, i) => {
      const base = Math.min(300, 100 * 2 ** i);
      expect(delay).toBeLessThanOrEqual(base);
      // The last pause may be cut short by the bound.
      if (i < delays.length - 1) expect(delay).toBeGreaterThanOrEqual(base / 2);
    });
    expect(delays.reduce((sum, delay) => sum + delay, 0)).toBe(1_000);
  });
});

describe('isRetriableKafkaError', () => {
  it.each([
    ['NOT_COORDINATOR', notCoordinator(), true],
    [
      'COORDINATOR_LOAD_IN_PROGRESS',
      Object.assign(new Error('loading'), { name: 'KafkaJSProtocolError', retriable: true }),
      true,
    ],
    [
      'a request timeout',
      Object.assign(new Error('Request timed out'), { name: 'KafkaJSRequestTimeoutError', retriable: true }),
      true,
    ],
    [
      "kafkajs's retries exhausted on a retriable error",
      Object.assign(new Error('x', { cause: notCoordinator() }), {
        name: 'KafkaJSNumberOfRetriesExceeded',
        retriable: false,
      }),
      true,
    ],
    [
      "kafkajs's retries exhausted on a non-retriable error",
      Object.assign(new Error('x', { cause: groupAuthorizationFailed() }), {
        name: 'KafkaJSNumberOfRetriesExceeded',
        retriable: false,
      }),
      false,
    ],
    [
      'no broker answered FindCoordinator',
      Object.assign(new Error('Failed to find group coordinator'), {
        name: 'KafkaJSGroupCoordinatorNotFound',
        retriable: false,
      }),
      true,
    ],
    ['GROUP_AUTHORIZATION_FAILED', groupAuthorizationFailed(), false],
    [
      'a plain Error (a missing topic, named by the caller)',
      new Error('topic t does not exist (yet)'),
      false,
    ],
    ['a TypeError', new TypeError('x is not a function'), false],
    ['not an Error at all', 'boom', false],
  ])('%s → %s', (_name, error, retriable) => {
    expect(isRetriableKafkaError(error)).toBe(retriable);
  });
});

const withCode = (message: string, code: number | string) => Object.assign(new Error(message), { code });

describe('isRetriableAmqpError', () => {
  it.each([
    ['connection refused', withCode('connect ECONNREFUSED 127.0.0.1:5672', 'ECONNREFUSED'), true],
    ['connection reset', withCode('read ECONNRESET', 'ECONNRESET'), true],
    ["amqplib's connect timeout", new Error('connect ETIMEDOUT'), true],
    ['closed while opening', new Error('Socket closed abruptly during opening handshake'), true],
    [
      'broker shutting down',
      withCode("Connection closed: 320 (CONNECTION-FORCED) with message 'shutdown'", 320),
      true,
    ],
    [
      'channel closed by an internal error',
      withCode('Channel closed by server: 541 (INTERNAL-ERROR)', 541),
      true,
    ],
    ['a request cut by a lost connection', new Error('Channel ended, no reply will be forthcoming'), true],
    [
      'a connection lost under the caller',
      Object.assign(new Error('Connection closed (Error: read ECONNRESET)'), {
        name: 'IllegalOperationError',
      }),
      true,
    ],
    [
      'every address refused',
      new AggregateError([withCode('x', 'ECONNREFUSED'), withCode('y', 'ECONNREFUSED')], ''),
      true,
    ],
    [
      'a missing queue',
      withCode(
        'Operation failed: QueueDeclare; 404 (NOT-FOUND) with message "NOT_FOUND - no queue \'q\'"',
        404,
      ),
      false,
    ],
    ['another queue type', withCode('Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED)', 406), false],
    [
      'a wrong password',
      new Error('Handshake terminated by server: 403 (ACCESS-REFUSED) with message "…"'),
      false,
    ],
    [
      'a connection this side closed',
      Object.assign(new Error('Connection closed (by client)'), { name: 'IllegalOperationError' }),
      false,
    ],
    ['a TypeError', new TypeError('content is not a buffer'), false],
  ])('%s → %s', (_name, error, retriable) => {
    expect(isRetriableAmqpError(error)).toBe(retriable);
  });
});

describe('withRabbitConnection (through rabbitQueueBacklog)', () => {
  /** Fake amqplib connections whose attempts follow `script`; a queue check answers `q` holds 7 messages. */
  function scriptedConnect(script: ('refused' | 'up')[]) {
    let attempts = 0;
    const closed: number[] = [];
    const connect = async () => {
      const id = attempts;
      attempts += 1;
      if (script[Math.min(id, script.length - 1)] === 'refused') {
        throw withCode('connect ECONNREFUSED 127.0.0.1:5672', 'ECONNREFUSED');
      }
      return {
        on() {},
        async close() {
          closed.push(id);
        },
        async createChannel() {
          return {
            on() {},
            async checkQueue(queue: string) {
              if (queue === 'q') return { queue, messageCount: 7, consumerCount: 0 };
              throw withCode(
                `Operation failed: QueueDeclare; 404 (NOT-FOUND) with message "no queue '${queue}'"`,
                404,
              );
            },
          };
        },
      } as unknown as ChannelModel;
    };
    return { connect, attempts: () => attempts, closed };
  }
  const url = 'amqp://tandem:secret@rabbit:5672';

  it('retries a refused connection (the broker restarting), and the answer comes through', async () => {
    fakeClock();
    const fake = scriptedConnect(['refused', 'refused', 'up']);
    expect(await settle(rabbitQueueBacklog({ url, queue: 'q', connect: fake.connect }))).toEqual({
      value: 7,
    });
    expect(fake.attempts()).toBe(3);
    expect(fake.closed).toEqual([2]);
  });

  it('does not retry a missing queue (404)', async () => {
    fakeClock();
    const fake = scriptedConnect(['up']);
    const outcome = await settle(rabbitQueueBacklog({ url, queue: 'gone', connect: fake.connect }));
    expect(outcome.error?.message).toMatch(/404 \(NOT-FOUND\)/);
    expect(fake.attempts()).toBe(1);
  });

  it('gives up at the bound, naming the host but not the password', async () => {
    fakeClock();
    const fake = scriptedConnect(['refused']);
    const outcome = await settle(
      rabbitQueueBacklog({ url, queue: 'q', connect: fake.connect, retry: { timeoutMs: 1_000 } }),
    );
    const error = outcome.error as RetriesExhaustedError;
    expect(error.attempts).toBe(fake.attempts());
    expect(error.message).toBe(
      `rabbitmq rabbit:5672: gave up after ${error.attempts} attempts (bound 1000 ms); ` +
        'last error: Error: connect ECONNREFUSED 127.0.0.1:5672',
    );
  });
});
