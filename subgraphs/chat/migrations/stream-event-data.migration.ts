import { Migration } from '@mikro-orm/migrations';

/**
 * Stream events store the domain's data (camelCase; REST shapes its own frames): `start` events
 * `{streamId, conversationId, provider, model}`, `done` events the ChatResponse, `error` events
 * `{code, message}`. Events stored before in REST's shape are rewritten, so streams running or
 * resumable across the upgrade read the same.
 */
export class ChatStreamEventData extends Migration {
  override async up(): Promise<void> {
    this.addSql(`update "chat"."stream_events" set "data" = jsonb_build_object(
      'streamId', "data"->'stream_id', 'conversationId', "data"->'conversation_id', 'provider', "data"->'provider', 'model', "data"->'model')
      where "type" = 'start' and ("data"->'stream_id') is not null`);
    this.addSql(`update "chat"."stream_events" set "data" = jsonb_build_object(
      'content', "data"->'content', 'provider', "data"->'provider', 'model', "data"->'model', 'usage', "data"->'usage',
      'conversationId', "data"->'conversation_id', 'messageId', "data"->'message_id')
      where "type" = 'done' and ("data"->'message_id') is not null`);
    this.addSql(`update "chat"."stream_events" set "data" = jsonb_build_object('code', "data"->'detail'->'error', 'message', "data"->'detail'->'message')
      where "type" = 'error' and ("data"->'detail') is not null`);
  }
}
