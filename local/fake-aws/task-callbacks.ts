/** What the exec Lambda reported through a task token (SendTask*), as the fake recorded it. */
export type TaskCallback =
  | { readonly kind: 'success'; readonly taskToken: string; readonly output: string; readonly at: Date }
  | {
      readonly kind: 'failure';
      readonly taskToken: string;
      readonly error?: string;
      readonly cause?: string;
      readonly at: Date;
    }
  | { readonly kind: 'heartbeat'; readonly taskToken: string; readonly at: Date };
