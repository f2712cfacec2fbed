import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";

/**
 * A stand-in for a tool-calling chat model, for running the agent example without an API key: it replies with the
 * scripted messages in turn (e.g. a tool call), then answers with the last tool result it was shown.
 */
export class ScriptedToolModel extends BaseChatModel {
  private turn = 0;

  constructor(private readonly script: AIMessage[]) {
    super({});
  }

  _llmType(): string {
    return "scripted-tool-model";
  }

  override bindTools(): this {
    return this;
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const scripted = this.script[this.turn];
    this.turn += 1;
    const lastTool = [...messages].reverse().find((m) => m.getType() === "tool");
    const message = scripted ?? new AIMessage(`From the notes: ${String(lastTool?.content ?? "nothing found")}`);
    return { generations: [{ message, text: String(message.content) }] };
  }
}
