// The activity-bar tree (service → config → upstream). Nodes come from treeModel.ts; this file only maps them to
// TreeItems and refreshes when the store changes, plus once when the earliest cooldown ends (no busy poll).
import * as vscode from 'vscode';
import type { Disposable } from '../core/events';
import type { ServiceStore } from './serviceStore';
import { VIEW_UPSTREAMS } from './constants';
import { CooldownTimer } from './cooldownTimer';
import { TOOLTIP_COMMANDS } from './markdown';
import { nextCooldownEnd, serviceNode } from './treeModel';
import type { TreeNode } from './treeModel';

/** TreeDataProvider over the ServiceStore. */
export class UpstreamTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private roots: TreeNode[] = [];
  private readonly cooldownTimer: CooldownTimer;
  private readonly subscription: Disposable;
  /** Redraws the "cooling 12 s" countdowns each second while the view is visible; nothing is fetched. */
  private ticker: NodeJS.Timeout | undefined;
  private visible = true;

  constructor(private readonly store: ServiceStore, private readonly now: () => number = Date.now) {
    this.cooldownTimer = new CooldownTimer(() => this.refresh(), now);
    this.rebuild();
    this.subscription = store.onDidChange(() => this.refresh());
  }

  /** Current root nodes (also used by the extension-host tests). */
  get nodes(): readonly TreeNode[] {
    return this.roots;
  }

  refresh(): void {
    this.rebuild();
    this.changed.fire(undefined);
  }

  /** Called by the view: no countdown redraws while the view is hidden. */
  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible) this.refresh();
    else this.tick(false);
  }

  private rebuild(): void {
    const now = this.now();
    const data = this.store.all();
    this.roots = data.map((d) => serviceNode(d, now));
    this.cooldownTimer.arm(data);
    this.tick(this.visible && nextCooldownEnd(data, now) !== undefined);
  }

  /**
   * A countdown redraw: only the rows whose text changed are fired (the old node objects, updated in place), so a
   * tooltip open on another row stays open. A changed tree shape falls back to a full refresh.
   */
  private countdown(): void {
    const now = this.now();
    const data = this.store.all();
    const next = data.map((d) => serviceNode(d, now));
    const changed: TreeNode[] = [];
    const same = (a: readonly TreeNode[], b: readonly TreeNode[]): boolean => a.length === b.length && a.every((x, i) => {
      const y = b[i]!;
      if (x.id !== y.id || !same(x.children, y.children)) return false;
      if (x.description !== y.description || x.tooltip !== y.tooltip || x.icon.id !== y.icon.id || x.contextValue !== y.contextValue) changed.push(x);
      return true;
    });
    if (!same(this.roots, next)) return this.refresh();
    const byId = new Map<string, TreeNode>();
    const index = (list: readonly TreeNode[]) => list.forEach((n) => { byId.set(n.id, n); index(n.children); });
    index(next);
    for (const old of changed) {
      const fresh = byId.get(old.id)!;
      Object.assign(old, { description: fresh.description, tooltip: fresh.tooltip, icon: fresh.icon, contextValue: fresh.contextValue });
      this.changed.fire(old);
    }
    this.cooldownTimer.arm(data);
    this.tick(this.visible && nextCooldownEnd(data, now) !== undefined);
  }

  private tick(on: boolean): void {
    if (on && !this.ticker) {
      this.ticker = setInterval(() => this.countdown(), 1000);
      this.ticker.unref?.();
    } else if (!on && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  getTreeItem(n: TreeNode): vscode.TreeItem {
    const state = n.children.length === 0
      ? vscode.TreeItemCollapsibleState.None
      : n.collapsed ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded;
    const item = new vscode.TreeItem(n.label, state);
    item.id = n.id;
    item.description = n.description;
    const tip = new vscode.MarkdownString(n.tooltip, true);
    tip.isTrusted = { enabledCommands: [...TOOLTIP_COMMANDS] };
    item.tooltip = tip;
    item.contextValue = n.contextValue;
    item.iconPath = new vscode.ThemeIcon(n.icon.id, n.icon.color ? new vscode.ThemeColor(n.icon.color) : undefined);
    return item;
  }

  getChildren(n?: TreeNode): TreeNode[] {
    return n ? n.children : this.roots;
  }

  getParent(n: TreeNode): TreeNode | undefined {
    const find = (list: readonly TreeNode[], parent: TreeNode | undefined): TreeNode | undefined => {
      for (const x of list) {
        if (x === n) return parent;
        const hit = find(x.children, x);
        if (hit) return hit;
      }
      return undefined;
    };
    return find(this.roots, undefined);
  }

  dispose(): void {
    this.tick(false);
    this.subscription.dispose();
    this.cooldownTimer.dispose();
    this.changed.dispose();
  }
}

/** Registers the tree view; returns the provider (for commands and tests) and its disposable. */
export function registerUpstreamTree(deps: { store: ServiceStore }): { provider: UpstreamTreeProvider; disposable: vscode.Disposable } {
  const provider = new UpstreamTreeProvider(deps.store);
  const view = vscode.window.createTreeView(VIEW_UPSTREAMS, { treeDataProvider: provider, showCollapseAll: true });
  provider.setVisible(view.visible);
  const vis = view.onDidChangeVisibility((e) => provider.setVisible(e.visible));
  return { provider, disposable: vscode.Disposable.from(vis, view, provider) };
}
