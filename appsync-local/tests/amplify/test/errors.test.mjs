// A wrong key surfaces as UnauthorizedException on the first attempt, for connect and for post.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { events } from 'aws-amplify/data';
import { configureApiKey, channelName } from '../helpers.mjs';

configureApiKey();
after(() => events.closeAll());

// Amplify retries what it thinks is retryable for seconds; an answer well inside that is a first
// attempt.
const FIRST_ATTEMPT_MS = 2500;

test('events.connect with a wrong key fails at once with UnauthorizedException', async () => {
  const started = Date.now();
  await assert.rejects(events.connect(channelName(), { apiKey: 'da2-wrong' }), (error) => {
    assert.match(JSON.stringify(error) + String(error?.message), /UnauthorizedException/);
    return true;
  });
  assert.ok(Date.now() - started < FIRST_ATTEMPT_MS, `took ${Date.now() - started} ms`);
});

test('events.post with a wrong key fails at once with UnauthorizedException', async () => {
  const started = Date.now();
  await assert.rejects(events.post(channelName(), { x: 1 }, { apiKey: 'da2-wrong' }), (error) => {
    assert.equal(error.name, 'UnauthorizedException');
    return true;
  });
  assert.ok(Date.now() - started < FIRST_ATTEMPT_MS, `took ${Date.now() - started} ms`);
});
