// Shared set-up: Amplify configured exactly as an app would be for appsync-local with --tls.
import { Amplify } from 'aws-amplify';

export const endpoint = process.env.APPSYNC_LOCAL_ENDPOINT;
export const apiKey = process.env.APPSYNC_LOCAL_API_KEY;

if (!endpoint || !endpoint.startsWith('https://')) {
  throw new Error('run these tests through run.mjs (it starts appsync-local with --tls)');
}

/** Amplify.configure for the local endpoint with API-key auth. */
export function configureApiKey() {
  Amplify.configure({
    API: { Events: { endpoint, region: 'us-east-1', defaultAuthMode: 'apiKey', apiKey } },
  });
}

/** Amplify.configure for IAM auth, with static credentials from a custom provider. */
export function configureIam() {
  const credentials = {
    accessKeyId: process.env.APPSYNC_LOCAL_ACCESS_KEY_ID,
    secretAccessKey: process.env.APPSYNC_LOCAL_SECRET_ACCESS_KEY,
  };
  Amplify.configure(
    { API: { Events: { endpoint, region: 'us-east-1', defaultAuthMode: 'iam' } } },
    {
      Auth: {
        credentialsProvider: {
          getCredentialsAndIdentityId: async () => ({ credentials }),
          clearCredentialsAndIdentityId: () => {},
        },
      },
    },
  );
}

/** A queue of what a subscription receives, awaited one at a time (no sleeping). */
export function inbox(channel, options) {
  const received = [];
  const waiting = [];
  const subscription = channel.subscribe({
    next: (data) => (waiting.length ? waiting.shift().resolve(data) : received.push(data)),
    error: (error) => waiting.length && waiting.shift().reject(error),
  }, options);
  return {
    subscription,
    next: () => {
      if (received.length) return Promise.resolve(received.shift());
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
  };
}

/** A unique channel per test, so tests never see each other's events. */
export function channelName(namespace = 'default') {
  return `/${namespace}/t${Math.random().toString(36).slice(2, 10)}`;
}
