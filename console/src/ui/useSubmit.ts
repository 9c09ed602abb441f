import { useState } from "preact/hooks";
import { messageOf, RequestFailed } from "../api/client";

export interface Submit {
  busy: boolean;
  errors: Map<string, string>;
  general: string[];
  /** Run `action`; on failure keep its errors by field (those in `fields`) and the rest. */
  run: (action: () => Promise<void>, fields: Set<string>) => Promise<boolean>;
  fail: (errors: Map<string, string>) => void;
}

/** The busy flag and the API's errors of one form, split into per-field and general. */
export function useSubmit(): Submit {
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [general, setGeneral] = useState<string[]>([]);
  const run = async (action: () => Promise<void>, fields: Set<string>): Promise<boolean> => {
    setBusy(true);
    setErrors(new Map());
    setGeneral([]);
    try {
      await action();
      setBusy(false);
      return true;
    } catch (failure) {
      setBusy(false);
      if (!(failure instanceof RequestFailed)) {
        setGeneral([messageOf(failure)]);
        return false;
      }
      const byField = failure.byField();
      setErrors(new Map([...byField].filter(([field]) => fields.has(field))));
      setGeneral([...failure.general(), ...[...byField].filter(([field]) => !fields.has(field)).map(([, message]) => message)]);
      return false;
    }
  };
  const fail = (found: Map<string, string>): void => {
    setErrors(found);
    setGeneral([]);
  };
  return { busy, errors, general, run, fail };
}

/** A number input's value for the API: blank is null. */
export function numberOrNull(text: string): number | null {
  return text.trim() === "" ? null : Number(text);
}
