/** The dead-letter index, the redriver and the event-life query of this api replica. */
export const OPS = Symbol('OPS');
