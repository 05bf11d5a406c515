export const JOB_STORE = Symbol('JOB_STORE');
export const EXPORT_STORE = Symbol('EXPORT_STORE');
