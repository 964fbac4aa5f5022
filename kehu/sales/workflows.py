"""The opportunity's workflow over its configurable stages 销售阶段.

The states are the active stages (an opportunity keeps its current stage listed even when that
stage was retired), grouped as open, won and lost by the stage's flags:

- move: an open opportunity to another open stage;
- win: to a won stage, with the deal amount, what was sold and the signing date; the customer
  (or the prospect, who becomes one) turns "won" in the same transaction;
- lose: to a lost stage, with the reason (and the competitor who won);
- reopen: a won or lost opportunity back to an open stage, with a comment. Reopening a won deal
  takes back what the win did to the customer (kehu.sales.services.unwin_customer).

A won opportunity cannot become lost (or the other way round) without being reopened first.
"""

from django.utils.translation import gettext_lazy as _

from kehu.core.workflow import OPTIONAL, REQUIRED, Transition, Workflow

WON_FIELDS = ("amount", "deal_products", "signed_on")


def _enter(opp, user, ctx):
    from .services import enter_stage

    ctx.log.update(enter_stage(opp, opp.stage, user) or {})


def _reopen(opp, user, ctx):
    from .services import reopen

    ctx.log.update(reopen(opp, user, ctx.from_state) or {})


def _record(opp, user, ctx):
    from .services import record_change

    record_change(opp, int(ctx.from_state) if ctx.from_state else None, opp.stage, user)


class OpportunityWorkflow(Workflow):
    field = "stage"
    on_timeline = False  # the sales provider shows stage moves, wins and losses on the timeline
    transitions = (
        Transition("move", _("Change stage"), source=("open",), target="open", comment=OPTIONAL, run=_enter,
                   after=_record, icon="ti-arrows-right"),
        Transition("win", _("Mark won"), source=("open",), target="won", fields=WON_FIELDS, required=WON_FIELDS,
                   comment=OPTIONAL, run=_enter, after=_record, style="success", icon="ti-trophy",
                   help=_("A won opportunity needs the amount, what was sold and the signing date. "
                          "The customer becomes a won customer.")),
        Transition("lose", _("Mark lost"), source=("open",), target="lost", fields=("lost_reason", "won_competitor"),
                   required=("lost_reason",), comment=OPTIONAL, run=_enter, after=_record, style="outline-danger",
                   icon="ti-circle-x"),
        Transition("reopen", _("Reopen"), source=("won", "lost"), target="open", comment=REQUIRED, run=_reopen,
                   after=_record, icon="ti-rotate",
                   help=_("Reopening a won deal takes the win back from the customer unless another won "
                          "opportunity keeps it a won customer.")),
    )

    def _stages(self, obj=None) -> list:
        from .models import Stage

        cached = getattr(obj, "_workflow_stages", None) if obj is not None else None
        if cached is None:
            current = getattr(obj, "stage_id", None) if obj is not None else None
            cached = list(Stage.objects.filter(active=True) | Stage.objects.filter(pk=current or 0))
            cached.sort(key=lambda s: (s.order, s.pk))
            if obj is not None:
                obj._workflow_stages = cached
        return cached

    def states(self, obj=None):
        return [(str(s.pk), str(s)) for s in self._stages(obj)]

    def group(self, state, obj=None):
        stage = self._stage(state, obj)
        return self._group_of(stage) if stage is not None else ""

    def _stage(self, state, obj=None):
        from .models import Stage

        for stage in self._stages(obj) if obj is not None else ():
            if str(stage.pk) == str(state):
                return stage
        return Stage.objects.filter(pk=int(state) if str(state).isdigit() else 0).first()

    def state_label(self, value, obj=None):
        stage = self._stage(value, obj)
        return str(stage) if stage is not None else str(value)

    def targets(self, t, obj):
        current = self.state(obj)
        return [(str(s.pk), str(s)) for s in self._stages(obj)
                if str(s.pk) != current and s.active and self._group_of(s) == t.target]

    @staticmethod
    def _group_of(stage) -> str:
        return "won" if stage.is_won else "lost" if stage.is_lost else "open"
