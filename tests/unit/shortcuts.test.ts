import { levelPlan } from "../../compose/plan";
import { renderNotes } from "../../compose/notes";
import { levelIds, levels, shortcutsOf } from "../../levels";
import { dockerPlan } from "../../plan/endpoints";
import { parseOptions } from "../../plan/options";

/**
 * Every faulty level declares the shortcuts a player in a hurry would try
 * (at least two); each is real scripts on the level's own nodes, and the
 * instructor notes list them. The lifecycle test applies them for real.
 */
describe.each(levels().filter((l) => l.faults.length > 0).map((l) => l.id))("shortcuts of %s", (id) => {
  const level = levels().find((l) => l.id === id)!;
  const plan = dockerPlan(levelPlan(level, parseOptions({ level: id, stack: `unit-${id}` }, levelIds())));
  const roles = plan.nodes.map((n) => n.role);

  it("lists at least two, each with scripts on the level's nodes", () => {
    const shortcuts = shortcutsOf(level);
    expect(shortcuts.length).toBeGreaterThanOrEqual(2);
    for (const s of shortcuts) {
      expect(s.description.length).toBeGreaterThan(10);
      const actions = [...s.actions(plan), ...(s.undo ? s.undo(plan) : [])];
      expect(s.actions(plan).length).toBeGreaterThan(0);
      for (const a of actions) {
        expect({ shortcut: s.description, node: roles.includes(a.node), script: a.script.trim().length > 0 }).toEqual({ shortcut: s.description, node: true, script: true });
      }
    }
    // Distinct: two entries that do the same thing would prove one thing twice.
    expect(new Set(shortcuts.map((s) => s.actions(plan).map((a) => a.script).join("\n"))).size).toBe(shortcuts.length);
  });

  it("appear in the instructor notes", () => {
    const notes = renderNotes(level);
    for (const s of shortcutsOf(level)) expect(notes).toContain(s.description);
  });
});
