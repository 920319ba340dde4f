#!/usr/bin/env python3
"""Draw the migrate and rollback flow from playbooks/migrate.yml and playbooks/rollback.yml.

Reads the plays as Ansible runs them: the imported playbook first, then each task in order; a
block is drawn as a box of its tasks, with its rescue (taken when any task of the block fails)
and its always (taken in every case). A step that runs a role is named after the role (and its
task file), so the picture names what the README and the role docs name. The DOT goes to
docs/flow.dot; `--render` also writes docs/flow.svg with Graphviz's `dot`:

    python scripts/flow_graph.py            # write docs/flow.dot
    python scripts/flow_graph.py --render   # and docs/flow.svg (needs graphviz)
    python scripts/flow_graph.py --check    # exit 1 when docs/flow.dot is stale
"""
import argparse
import pathlib
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
PLAYBOOKS = ["migrate.yml", "rollback.yml"]
DOT = ROOT / "docs" / "flow.dot"
SVG = ROOT / "docs" / "flow.svg"
ROLE_ACTIONS = ("ansible.builtin.import_role", "ansible.builtin.include_role")
PLAYBOOK_ACTIONS = ("ansible.builtin.import_playbook",)


def quote(text):
    """A DOT string; a backslash stays (\\n is a line break in a label)."""
    return '"' + text.replace('"', '\\"') + '"'


def step_label(task):
    """What a task runs: the role (short name, with its task file), a playbook, or the task's name."""
    for action in ROLE_ACTIONS:
        if action in task:
            role = task[action]["name"].rsplit(".", 1)[-1]
            tasks_from = task[action].get("tasks_from")
            return f"{role}: {tasks_from}" if tasks_from else role
    return task.get("name", "?")


class Graph:
    def __init__(self):
        self.lines = []
        self.count = 0

    def node(self, label, indent, **attrs):
        self.count += 1
        name = f"n{self.count}"
        extra = "".join(f", {key}={quote(value)}" for key, value in attrs.items())
        self.lines.append(f"{indent}{name} [label={quote(label)}{extra}];")
        return name

    def edge(self, tail, head, indent, **attrs):
        extra = ", ".join(f"{key}={quote(value)}" for key, value in attrs.items())
        self.lines.append(f"{indent}{tail} -> {head}" + (f" [{extra}]" if extra else "") + ";")

    def tasks(self, tasks, indent, prefix):
        """Draw tasks one after the other; return the first and the last node."""
        first = last = None
        for task in tasks:
            if "block" in task:
                head, tail = self.block(task, indent, prefix)
            elif any(action in task for action in ROLE_ACTIONS):
                head = tail = self.node(step_label(task), indent)
            else:
                head = tail = self.node(step_label(task), indent, shape="note")
            if last:
                self.edge(last, head, indent)
            first = first or head
            last = tail
        return first, last

    def block(self, task, indent, prefix):
        """A block: its body in a box; rescue on failure of any step; always after both."""
        self.count += 1
        cluster = f"cluster_{prefix}_{self.count}"
        self.lines.append(f"{indent}subgraph {cluster} {{")
        self.lines.append(f"{indent}  label={quote(task.get('name', 'block'))}; style=rounded; color=gray40;")
        first, last = self.tasks(task["block"], indent + "  ", prefix)
        self.lines.append(f"{indent}}}")
        end = last
        if task.get("rescue"):
            r_first, r_last = self.tasks(task["rescue"], indent, prefix)
            self.edge(last, r_first, indent, label="any step fails", ltail=cluster, style="dashed", color="red3",
                      fontcolor="red3")
            end = r_last
        if task.get("always"):
            a_first, a_last = self.tasks(task["always"], indent, prefix)
            self.edge(last, a_first, indent, label="always", ltail=cluster)
            if end != last:
                self.edge(end, a_first, indent)
            end = a_last
        return first, end

    def playbook(self, path):
        plays = yaml.safe_load(path.read_text())
        prefix = path.stem
        self.lines.append(f"  subgraph cluster_{prefix} {{")
        self.lines.append(f"    label={quote('playbooks/' + path.name)}; fontsize=16;")
        last = None
        for play in plays:
            imported = next((play[a] for a in PLAYBOOK_ACTIONS if a in play), None)
            if imported:
                head = tail = self.node(f"{imported} (every host's settings)", "    ", shape="note")
            else:
                start = self.node(f"{play['name']}\\nhosts: {play['hosts']}, serial: mall_serial", "    ",
                                  shape="box", style="bold")
                first, tail = self.tasks(play.get("tasks", []), "    ", prefix)
                self.edge(start, first, "    ")
                head = start
            if last:
                self.edge(last, head, "    ")
            last = tail
        self.lines.append("  }")


def render():
    graph = Graph()
    for name in PLAYBOOKS:
        graph.playbook(ROOT / "playbooks" / name)
    header = [
        "// Generated by scripts/flow_graph.py from playbooks/migrate.yml and playbooks/rollback.yml. Do not edit.",
        "digraph flow {",
        "  compound=true; rankdir=TB; newrank=true;",
        '  node [shape=box, style="rounded", fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=10];',
        '  graph [fontname="Helvetica"];',
    ]
    return "\n".join(header + graph.lines + ["}", ""])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when docs/flow.dot is stale")
    parser.add_argument("--render", action="store_true", help="also render docs/flow.svg with dot")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not DOT.is_file() or DOT.read_text() != text:
            print("docs/flow.dot is stale: run python scripts/flow_graph.py --render", file=sys.stderr)
            return 1
        return 0
    DOT.write_text(text)
    if args.render:
        subprocess.run(["dot", "-Tsvg", "-o", str(SVG), str(DOT)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
