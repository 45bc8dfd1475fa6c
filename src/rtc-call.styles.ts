import { css } from 'lit';

export const styles = css`
  :host {
    display: block;
    box-sizing: border-box;
    font: var(--rtc-call-font, 14px/1.4 system-ui, sans-serif);
    color: var(--rtc-call-color, #1b1f24);
    max-width: 100%;
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
    gap: var(--rtc-call-gap, 8px);
  }
  video {
    width: 100%;
    aspect-ratio: 4 / 3;
    object-fit: cover;
    background: var(--rtc-call-video-background, #101418);
    border-radius: var(--rtc-call-radius, 8px);
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
    color: var(--rtc-call-error-color, #b3261e);
    opacity: 1;
  }
  select {
    font: inherit;
    min-height: var(--rtc-call-control-size, 40px);
    border-radius: var(--rtc-call-radius, 8px);
    max-width: 12em;
  }
  [part='chat'] {
    margin-top: var(--rtc-call-gap, 8px);
  }
  [part='chat-log'] {
    list-style: none;
    margin: 0 0 var(--rtc-call-gap, 8px);
    padding: 8px;
    max-height: 12em;
    overflow-y: auto;
    border: 1px solid #c4ccd4;
    border-radius: var(--rtc-call-radius, 8px);
    overflow-wrap: anywhere;
  }
  [part='chat'] form {
    display: flex;
    gap: var(--rtc-call-gap, 8px);
  }
  [part='chat-input'] {
    flex: 1;
    font: inherit;
    min-height: var(--rtc-call-control-size, 40px);
    padding: 0 8px;
    border: 1px solid #8a949e;
    border-radius: var(--rtc-call-radius, 8px);
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
    gap: var(--rtc-call-gap, 8px);
    margin: var(--rtc-call-gap, 8px) 0;
  }
  [part='status'] {
    min-height: 1.4em;
  }
  :host([state='failed']) [part='status'] {
    color: var(--rtc-call-error-color, #b3261e);
  }
  [part='controls'] {
    display: flex;
    flex-wrap: wrap;
    gap: var(--rtc-call-gap, 8px);
  }
  button {
    font: inherit;
    min-height: var(--rtc-call-control-size, 40px);
    padding: 0 16px;
    border: 1px solid transparent;
    border-radius: var(--rtc-call-radius, 8px);
    background: var(--rtc-call-accent, #0b57d0);
    color: var(--rtc-call-on-accent, #fff);
    cursor: pointer;
  }
  button:focus-visible {
    outline: 3px solid var(--rtc-call-focus, #f6b100);
    outline-offset: 2px;
  }
  button:disabled {
    background: #dde3ea;
    color: #3c4650;
    cursor: default;
  }
  [part='hangup-button']:not(:disabled) {
    background: var(--rtc-call-danger, #b3261e);
  }
  @media (max-width: 480px) {
    .videos {
      grid-template-columns: 1fr;
    }
  }
`;
