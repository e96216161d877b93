import { type Signal, useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import type { ChatLine } from "../lib/ui/room_state.ts";

/** Props of {@linkcode ChatLog}. */
export interface ChatLogProps {
  /** The heading, e.g. "Room chat". */
  title: string;
  /** The lines to show. */
  lines: Signal<ChatLine[]>;
  /** The text field's label. */
  label: string;
  /** The send button's name. */
  button: string;
  /** Sends one message; resolves false when it was not sent. */
  send: (text: string) => boolean | Promise<boolean>;
  /** Shown while there are no lines. */
  empty: string;
  /** Disables the field, e.g. while offline. */
  disabled?: boolean;
}

/** A chat: the lines (newest last, announced politely) and a field to send one. */
export function ChatLog({ title, lines, label, button, send, empty, disabled }: ChatLogProps) {
  const draft = useSignal("");
  const list = useRef<HTMLOListElement>(null);
  const id = title.toLowerCase().replace(/\W+/g, "-");

  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines.value.length]);

  const onSubmit = async (event: SubmitEvent) => {
    event.preventDefault();
    const text = draft.value;
    if (!text.trim()) return;
    draft.value = "";
    if (!await send(text)) draft.value = text;
  };

  return (
    <section class="card chat" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      {lines.value.length === 0 && <p class="muted">{empty}</p>}
      <ol class="chat-lines" ref={list} aria-live="polite" aria-label={title}>
        {lines.value.map((line) => (
          <li key={line.id} class={line.mine ? "mine" : undefined}>
            <b>{line.mine ? "You" : line.from}</b> {line.text}
          </li>
        ))}
      </ol>
      <form class="inline" onSubmit={onSubmit}>
        <label for={`${id}-input`}>{label}</label>
        <input
          id={`${id}-input`}
          autocomplete="off"
          maxLength={2000}
          value={draft}
          disabled={disabled}
          onInput={(e) => draft.value = e.currentTarget.value}
        />
        <button type="submit" disabled={disabled}>{button}</button>
      </form>
    </section>
  );
}
