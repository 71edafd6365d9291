// Calls one export of the handler module with a context given as JSON text and answers JSON text:
// {"missing":true} when the module does not export it, else {"value": <what it returned>}.
import * as handler from 'handler';

export function invoke(name, contextJson) {
  const f = handler[name];
  if (typeof f !== 'function') return '{"missing":true}';
  const out = f(JSON.parse(contextJson));
  return JSON.stringify({ value: out === undefined ? null : out });
}
