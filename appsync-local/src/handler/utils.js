// @aws-appsync/utils as appsync-local provides it to namespace handlers: the parts of `util` that
// simple onPublish/onSubscribe handlers use. util.error and util.unauthorized throw an error the
// server recognises by its __appsyncLocal mark.

function fail(kind, message, errorType, data, errorInfo) {
  const e = new Error(message);
  e.__appsyncLocal = kind;
  e.errorType = errorType;
  e.data = data;
  e.errorInfo = errorInfo;
  throw e;
}

function hex(n) {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}

export const util = {
  error(message, errorType, data, errorInfo) {
    fail('error', message === undefined ? '' : String(message), errorType, data, errorInfo);
  },
  unauthorized() {
    fail('unauthorized', 'You are not authorized to make this call', 'UnauthorizedException');
  },
  autoId() {
    const variant = '89ab'[Math.floor(Math.random() * 4)];
    return `${hex(8)}-${hex(4)}-4${hex(3)}-${variant}${hex(3)}-${hex(12)}`;
  },
  isNull(value) {
    return value === null || value === undefined;
  },
  isNullOrEmpty(value) {
    return value === null || value === undefined || value === '' ||
      (Array.isArray(value) && value.length === 0);
  },
  time: {
    nowISO8601() {
      return new Date().toISOString();
    },
    nowEpochSeconds() {
      return Math.floor(Date.now() / 1000);
    },
    nowEpochMilliSeconds() {
      return Date.now();
    },
    parseISO8601ToEpochMilliSeconds(text) {
      return Date.parse(text);
    },
    epochMilliSecondsToISO8601(ms) {
      return new Date(ms).toISOString();
    },
    epochMilliSecondsToSeconds(ms) {
      return Math.floor(ms / 1000);
    },
  },
};
