// console.* for handlers: every call becomes one line in the server's log.
(() => {
  const text = (v) => (typeof v === 'string' ? v : JSON.stringify(v));
  const log = (level) => (...args) => __appsyncLocalLog(level, args.map(text).join(' '));
  globalThis.console = {
    log: log('info'), info: log('info'), debug: log('debug'), warn: log('warn'), error: log('error'),
  };
})();
