/** RFC 6455 5.2 opcodes this implementation knows. 3-7 and 0xB-0xF are reserved and rejected with 1002. */
export const Opcode = {
  Continuation: 0,
  Text: 1,
  Binary: 2,
  Close: 8,
  Ping: 9,
  Pong: 10,
} as const satisfies Record<string, number>;

export type OpcodeValue = (typeof Opcode)[keyof typeof Opcode];

/** Control frames have the most significant opcode bit set (RFC 6455 5.5). */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

/** True for the six opcodes defined by RFC 6455. */
export function isKnownOpcode(opcode: number): boolean {
  return opcode <= 2 || (opcode >= 8 && opcode <= 10);
}
