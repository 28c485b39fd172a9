/** Database used when `databaseName` is not given. */
export const DEFAULT_DATABASE_NAME = 'strands_sessions'
