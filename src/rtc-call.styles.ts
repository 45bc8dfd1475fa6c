import { css } from 'lit';

export const styles = css`
  /* Light and dark defaults; every --rtc-call-* property set by the page wins over both. */
  :host {
    --_color: var(--rtc-call-color, #1b1f24);
    --_background: var(--rtc-call-background, transparent);
    --_accent: var(--rtc-call-accent, #0b57d0);
    --_on-accent: var(--rtc-call-on-accent, #fff);
    --_danger: var(--rtc-call-danger, #b3261e);
    --_on-danger: var(--rtc-call-on-danger, #fff);
    --_error: var(--rtc-call-error-color, #b3261e);
    --_border: var(--rtc-call-border-color, #8a949e);
    --_field: var(--rtc-call-field-background, #fff);
    /* At least 3:1 against the background around the control, in either scheme. */
    --_focus: var(--rtc-call-focus, #7a4300);
    --_disabled: var(--rtc-call-disabled-background, #dde3ea);
    --_on-disabled: var(--rtc-call-disabled-color, #3c4650);
    --_radius: var(--rtc-call-radius, 8px);
    --_gap: var(--rtc-call-gap, 8px);
    --_control: var(--rtc-call-control-size, 40px);
    display: block;
    box-sizing: border-box;
    container-type: inline-size;
    font: var(--rtc-call-font, 14px/1.4 system-ui, sans-serif);
    color: var(--_color);
    background: var(--_background);
    color-scheme: light dark;
    max-width: 100%;
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --_color: var(--rtc-call-color, #e3e6ea);
      /* Its own dark surface: light text must not land on a page that stayed light. */
      --_background: var(--rtc-call-background, #16191d);
      --_accent: var(--rtc-call-accent, #a8c7fa);
      --_on-accent: var(--rtc-call-on-accent, #062e6f);
      --_danger: var(--rtc-call-danger, #f2b8b5);
      --_on-danger: var(--rtc-call-on-danger, #601410);
      --_error: var(--rtc-call-error-color, #f2b8b5);
      --_border: var(--rtc-call-border-color, #6f7882);
      --_field: var(--rtc-call-field-background, #22272e);
      --_focus: var(--rtc-call-focus, #f6b100);
      --_disabled: var(--rtc-call-disabled-background, #2d333b);
      --_on-disabled: var(--rtc-call-disabled-color, #b8c0c8);
    }
  }
  :host([hidden]) {
    display: none;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  .videos {
    position: relative;
    display: grid;
    grid-template-columns: 1fr 1fr;
    gap: var(--_gap);
  }
  :host([layout='stacked']) .videos {
    grid-template-columns: 1fr;
  }
  /* Picture in picture: your camera small, in a corner of the other's video. */
  :host([layout='pip']) .videos {
    grid-template-columns: 1fr;
  }
  :host([layout='pip']) [part='local-video'] {
    position: absolute;
    right: var(--_gap);
    bottom: var(--_gap);
    width: 30%;
    box-shadow: 0 1px 6px rgb(0 0 0 / 50%);
  }
  @container (max-width: 520px) {
    :host(:not([layout='side-by-side'], [layout='stacked'])) .videos {
      grid-template-columns: 1fr;
    }
    :host(:not([layout='side-by-side'], [layout='stacked'])) [part='local-video'] {
      position: absolute;
      right: var(--_gap);
      bottom: var(--_gap);
      width: 30%;
      box-shadow: 0 1px 6px rgb(0 0 0 / 50%);
    }
  }
  ::slotted([slot='placeholder']) {
    position: absolute;
    inset: 0;
    display: grid;
    place-items: center;
    color: #fff;
  }
  video {
    width: 100%;
    aspect-ratio: 4 / 3;
    object-fit: cover;
    background: var(--rtc-call-video-background, #101418);
    border-radius: var(--_radius);
  }
  .remote {
    position: relative;
  }
  .remote video {
    display: block;
  }
  [part='remote-name'] {
    position: absolute;
    left: 8px;
    bottom: 8px;
    max-width: calc(100% - 16px);
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
    padding: 2px 8px;
    border-radius: 4px;
    background: rgb(0 0 0 / 60%);
    color: #fff;
  }
  [part='remote-media'] {
    position: absolute;
    top: 8px;
    left: 8px;
    padding: 2px 8px;
    border-radius: 4px;
    background: rgb(0 0 0 / 60%);
    color: #fff;
  }
  [part~='quality'] {
    font-size: 0.9em;
    opacity: 0.8;
  }
  [part~='quality'][data-quality='poor'] {
    color: var(--_error);
    opacity: 1;
  }
  select {
    font: inherit;
    color: inherit;
    background: var(--_field);
    min-height: var(--_control);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    max-width: 16em;
  }
  [part='chat'] {
    margin-top: var(--_gap);
  }
  [part='chat-log'] {
    list-style: none;
    margin: 0 0 var(--_gap);
    padding: 8px;
    min-height: 4em;
    max-height: 12em;
    overflow-y: auto;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    overflow-wrap: anywhere;
  }
  [part='chat'] form {
    display: flex;
    gap: var(--_gap);
  }
  [part='chat-input'] {
    flex: 1;
    font: inherit;
    color: inherit;
    background: var(--_field);
    min-height: var(--_control);
    padding: 0 8px;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
  }
  .who {
    font-weight: 600;
  }
  [part='local-video'] {
    /* A mirror is what people expect of their own picture. */
    transform: scaleX(-1);
  }
  .status-row {
    display: flex;
    flex-wrap: wrap;
    justify-content: space-between;
    gap: var(--_gap);
    margin: var(--_gap) 0;
  }
  [part='status'] {
    min-height: 1.4em;
  }
  :host([state='failed']) [part='status'] {
    color: var(--_error);
  }
  [part='controls'] {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_gap);
  }
  button {
    font: inherit;
    min-height: var(--_control);
    padding: 0 16px;
    border: 1px solid transparent;
    border-radius: var(--_radius);
    background: var(--_accent);
    color: var(--_on-accent);
    cursor: pointer;
  }
  button:focus-visible,
  select:focus-visible,
  input:focus-visible {
    outline: 3px solid var(--_focus);
    outline-offset: 2px;
  }
  button:disabled {
    background: var(--_disabled);
    color: var(--_on-disabled);
    cursor: default;
  }
  [part='hangup-button']:not(:disabled) {
    background: var(--_danger);
    color: var(--_on-danger);
  }
`;
