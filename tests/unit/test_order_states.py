from chalicelib.domain.orders import TRANSITIONS, OrderStatus as S, can_transition, sources_of


def test_the_documented_transitions_are_allowed():
    for source, target in [(S.PENDING, S.PAID), (S.PAID, S.DELIVERING), (S.DELIVERING, S.DELIVERED),
                           (S.PENDING, S.EXPIRED), (S.PENDING, S.CANCELLED), (S.EXPIRED, S.PAID_LATE),
                           (S.CANCELLED, S.PAID_LATE), (S.PAID_LATE, S.DELIVERING), (S.DELIVERING, S.FAILED),
                           (S.DELIVERING, S.NEEDS_REVIEW), (S.DELIVERING, S.WAITING_STARS),
                           (S.WAITING_STARS, S.DELIVERING)]:
        assert can_transition(source, target), (source, target)


def test_terminal_states_go_nowhere_and_nothing_skips_payment():
    for terminal in (S.DELIVERED, S.FAILED, S.NEEDS_REVIEW):
        assert TRANSITIONS[terminal] == frozenset()
    assert not can_transition(S.PENDING, S.DELIVERING)
    assert not can_transition(S.EXPIRED, S.PAID)
    assert sources_of(S.PAID_LATE) == {S.EXPIRED, S.CANCELLED}
