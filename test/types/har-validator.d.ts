/** The promise API of har-validator (it ships no types): resolves with the data when valid, rejects with the schema errors. */
declare module 'har-validator' {
  const validator: { har(data: unknown): Promise<unknown> };
  export default validator;
}
