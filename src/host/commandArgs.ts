// Commands are invoked from the palette (no argument), from tree items (a TreeNode), from the status bar (a service
// name) and from tests (plain values): these helpers read what was passed without trusting its shape.
import type { ServiceName } from '../core/types';
import { SERVICE_NAMES } from '../core/types';

function field(arg: unknown, name: string): unknown {
  return arg !== null && typeof arg === 'object' ? (arg as Record<string, unknown>)[name] : undefined;
}

/** The service an argument names: `'codex'`, `{ service: 'codex' }` or a tree node. */
export function serviceOfArg(arg: unknown): ServiceName | undefined {
  const v = typeof arg === 'string' ? arg : field(arg, 'service');
  return SERVICE_NAMES.includes(v as ServiceName) ? (v as ServiceName) : undefined;
}

/** A non-blank string field of the argument (e.g. `config`, `baseUrl`, `secretName`). */
export function stringOfArg(arg: unknown, name: string): string | undefined {
  const v = field(arg, name);
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

/** A number field of the argument. */
export function numberOfArg(arg: unknown, name: string): number | undefined {
  const v = field(arg, name);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
