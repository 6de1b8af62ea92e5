import { describe, expect, it } from 'vitest';
import { ErrorCode, HoldfastError, errorActions } from '@holdfast/protocol';
import { ScriptStatus } from '@holdfast/session-log';
import { actionFor } from '../../shared/client/src/code-table.js';
import { checkReply } from '../../shared/session-log/src/script-errors.js';

describe("a claim refused for the client's own newer attempt", () => {
  it('maps HF_SUPERSEDED to a superseded error carrying the newest attempt, never to replaced', () => {
    let thrown: unknown;
    try {
      checkReply([ScriptStatus.Superseded, 7], 's-1');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HoldfastError);
    const error = thrown as HoldfastError;
    expect(error.code).toBe(ErrorCode.Superseded);
    expect(error.details).toEqual({ attempt: 7 });
    expect(error.message).toContain('session s-1');
  });

  it('is a retry for the protocol and the SDK, where replaced is a stop', () => {
    expect(errorActions[ErrorCode.Superseded]).toBe('retry');
    expect(actionFor(ErrorCode.Superseded)).toBe('retry');
    expect(actionFor(ErrorCode.Replaced)).toBe('stop');
  });
});
