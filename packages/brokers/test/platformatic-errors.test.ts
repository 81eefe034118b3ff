// Which @platformatic/kafka errors the bounded retry takes for transient, built from the library's own classes.
import {
  AuthenticationError,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  TimeoutError,
  UserError,
} from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import {
  explainPlatformaticError,
  isRetriablePlatformaticError,
  isUnknownTopicError,
  protocolErrorIds,
} from '../src/platformatic/client.ts';

describe('isRetriablePlatformaticError', () => {
  it.each([
    ['a lost connection', new NetworkError('Connection to 127.0.0.1:9092 failed.')],
    ['a request timeout', new TimeoutError('Request timed out.')],
    ['a coordinator that moved', new ProtocolError('NOT_COORDINATOR')],
    ['a coordinator still loading', new ProtocolError('COORDINATOR_LOAD_IN_PROGRESS')],
    [
      "the library's retries run out on those",
      new MultipleErrors('metadata failed 3 times.', [new NetworkError('a'), new NetworkError('b')]),
    ],
  ])('retries %s', (_, error) => {
    expect(isRetriablePlatformaticError(error)).toBe(true);
  });

  it.each([
    [
      'a wrong login, even wrapped in a network error',
      new MultipleErrors('Cannot connect to any broker.', [
        new NetworkError('Connection to 127.0.0.1:9092 failed.', {
          cause: new AuthenticationError('SASL authentication failed.'),
        }),
      ]),
    ],
    ['a refusal the broker calls final', new ProtocolError('TOPIC_ALREADY_EXISTS')],
    ['an unknown topic', new UserError('Unknown topic t.')],
    ['the client closed while retrying', new MultipleErrors('x failed', [new UserError('Client closed.')])],
    ['an error not from the library', new Error('ECONNREFUSED')],
  ])('does not retry %s', (_, error) => {
    expect(isRetriablePlatformaticError(error)).toBe(false);
  });

  it('tells an unknown topic, and the protocol errors of a tree', () => {
    expect(isUnknownTopicError(new MultipleErrors('m', [new UserError('Unknown topic t.')]))).toBe(true);
    expect(isUnknownTopicError(new UserError('Client closed.'))).toBe(false);
    expect(
      protocolErrorIds(
        new MultipleErrors('m', [new ProtocolError('NON_EMPTY_GROUP'), new NetworkError('x')]),
      ),
    ).toEqual(['NON_EMPTY_GROUP']);
  });

  it('names a wrong login instead of "Cannot connect to any broker"', () => {
    const wrapped = new MultipleErrors('Listing topics failed.', [
      new NetworkError('Connection failed.', {
        cause: new AuthenticationError('SASL authentication failed.'),
      }),
    ]);
    const explained = explainPlatformaticError(wrapped) as Error;
    expect(explained.name).toBe('KafkaAuthenticationError');
    expect(explained.message).toMatch(/SASL authentication failed/);
    expect(explained.cause).toBe(wrapped);
    const other = new NetworkError('x');
    expect(explainPlatformaticError(other)).toBe(other);
  });
});
