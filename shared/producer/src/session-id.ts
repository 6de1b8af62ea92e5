import { randomBytes } from 'node:crypto';

/**
 * A fresh session id: 128 random bits as base64url (22 characters of A-Z a-z 0-9 _ -), valid
 * wherever a session id is and safe in URLs. Unguessable, but not a secret: clients still need
 * a token to connect. Never with a leading `-`: one in 64 ids would otherwise read as a flag to
 * command lines (the ops CLI, redis-cli, grep) that are handed it.
 */
export function newSessionId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
