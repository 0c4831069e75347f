/**
 * The expected-message tables of each handshake (RFC 5246 §7.3 Figure 1 and 2, RFC 4279 §2,
 * RFC 6347 §4.2.5). A flow is data: the state machines only check the head of their list.
 */
import { HandshakeType } from '../constants';
import { DtlsErrors } from '../errors';

export interface Step {
  msg: number | 'ccs';
  optional?: boolean;
}

const ccs: Step = { msg: 'ccs' };
const finished: Step = { msg: HandshakeType.finished };

export const FLOWS = {
  /** Server, full PSK handshake, after ClientHello: the client's flight 5. */
  serverPsk: [{ msg: HandshakeType.clientKeyExchange }, ccs, finished],
  /** Server, ECDHE_ECDSA without client authentication (RFC 4492 §2.2). */
  serverEcdhe: [{ msg: HandshakeType.clientKeyExchange }, ccs, finished],
  /** Server, ECDHE_ECDSA after a CertificateRequest: Certificate, ClientKeyExchange, CertificateVerify (RFC 5246 §7.3). */
  serverEcdheClientAuth: [
    { msg: HandshakeType.certificate },
    { msg: HandshakeType.clientKeyExchange },
    { msg: HandshakeType.certificateVerify },
    ccs,
    finished,
  ],
  /** Server, abbreviated handshake (resumption): the client's last flight. */
  serverResume: [ccs, finished],
  /** Client, after ClientHello: ServerHello, then the rest is chosen by what it says. */
  clientHello: [{ msg: HandshakeType.serverHello }],
  /** Client, full PSK: optional ServerKeyExchange (identity hint), ServerHelloDone. */
  clientPsk: [{ msg: HandshakeType.serverKeyExchange, optional: true }, { msg: HandshakeType.serverHelloDone }],
  /** Client, ECDHE_ECDSA: Certificate, ServerKeyExchange, optional CertificateRequest, ServerHelloDone (RFC 4492 §2.2). */
  clientEcdhe: [
    { msg: HandshakeType.certificate },
    { msg: HandshakeType.serverKeyExchange },
    { msg: HandshakeType.certificateRequest, optional: true },
    { msg: HandshakeType.serverHelloDone },
  ],
  /** Client after its flight 5, and after ServerHello when resuming: the server's CCS + Finished. */
  clientFinish: [ccs, finished],
} as const satisfies Record<string, readonly Step[]>;

/** Takes the next expected step matching `msg` (skipping optional ones), or throws unexpected_message. */
export function expectStep(queue: Step[], msg: number | 'ccs'): void {
  while (queue.length > 0) {
    const head = queue[0] as Step;
    if (head.msg === msg) {
      queue.shift();
      return;
    }
    if (!head.optional) break;
    queue.shift();
  }
  throw DtlsErrors.unexpectedMessage(`got ${msg}`);
}
