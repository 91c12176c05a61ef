"""Queue members' states from AMI queue events (dialer/telephony/agents.py)."""

from datetime import datetime, timedelta, timezone

from dialer.telephony.agents import AgentBoard, AgentState

T0 = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)


def status(board, at, **kw):
    headers = {"Queue": "collections", "MemberName": "agent1", "Interface": "PJSIP/agent1",
               "Paused": "0", "InCall": "0", "Status": "1", "Wrapuptime": "5", **kw}
    board.apply("QueueMemberStatus", headers, at=at)


def state(board, at):
    (view,) = board.snapshot(at).agents
    return view


def test_given_an_unregistered_softphone_then_unavailable_and_not_counted_logged_in():
    board = AgentBoard()
    status(board, T0, Status="5")
    assert state(board, T0).state is AgentState.UNAVAILABLE
    assert board.snapshot(T0).logged_in == 0


def test_given_a_registered_idle_agent_then_free():
    board = AgentBoard()
    status(board, T0)
    assert board.snapshot(T0).free == 1


def test_given_a_call_offered_then_ringing_then_in_call_with_talk_time():
    board = AgentBoard()
    status(board, T0)
    board.apply("AgentCalled", {"Queue": "collections", "Interface": "PJSIP/agent1"}, at=T0)
    assert state(board, T0 + timedelta(seconds=1)).state is AgentState.RINGING
    board.apply("AgentConnect", {"Queue": "collections", "Interface": "PJSIP/agent1"},
                at=T0 + timedelta(seconds=2))
    view = state(board, T0 + timedelta(seconds=32))
    assert view.state is AgentState.IN_CALL and view.elapsed_s == 30


def test_given_a_completed_call_then_wrap_up_until_the_wrapuptime_passes():
    board = AgentBoard()
    status(board, T0)
    board.apply("AgentConnect", {"Queue": "collections", "Interface": "PJSIP/agent1"}, at=T0)
    board.apply("AgentComplete", {"Queue": "collections", "Interface": "PJSIP/agent1"},
                at=T0 + timedelta(seconds=60))
    assert state(board, T0 + timedelta(seconds=62)).state is AgentState.WRAP_UP
    assert state(board, T0 + timedelta(seconds=66)).state is AgentState.FREE


def test_given_a_paused_agent_then_paused_whatever_the_device():
    board = AgentBoard()
    status(board, T0, Paused="1")
    assert state(board, T0).state is AgentState.PAUSED
    board.apply("QueueMemberPause", {"Queue": "collections", "Interface": "PJSIP/agent1",
                                     "Paused": "0"}, at=T0)
    assert state(board, T0).state is AgentState.FREE


def test_given_a_removed_member_then_gone():
    board = AgentBoard()
    status(board, T0)
    board.apply("QueueMemberRemoved", {"Queue": "collections", "Interface": "PJSIP/agent1"}, at=T0)
    assert board.snapshot(T0).agents == ()


def test_given_ringall_when_another_member_answers_then_the_others_stop_ringing_on_their_device_state():
    board = AgentBoard()
    status(board, T0)
    board.apply("AgentCalled", {"Queue": "collections", "Interface": "PJSIP/agent1"}, at=T0)
    status(board, T0 + timedelta(seconds=1), Status="6")
    assert state(board, T0 + timedelta(seconds=1)).state is AgentState.RINGING
    status(board, T0 + timedelta(seconds=2), Status="1")   # rung off, no AgentRingNoAnswer
    assert state(board, T0 + timedelta(seconds=2)).state is AgentState.FREE


def test_given_ringall_when_one_member_answers_then_the_others_rung_for_that_caller_stop_ringing():
    board = AgentBoard()
    for name in ("agent1", "agent2"):
        status(board, T0, MemberName=name, Interface=f"PJSIP/{name}")
        board.apply("AgentCalled", {"Queue": "collections", "Interface": f"PJSIP/{name}", "Uniqueid": "caller-1"},
                    at=T0)
    assert board.snapshot(T0).count(AgentState.RINGING) == 2
    board.apply("AgentConnect", {"Queue": "collections", "Interface": "PJSIP/agent1", "Uniqueid": "caller-1"},
                at=T0 + timedelta(seconds=1))
    states = {a.name: a.state for a in board.snapshot(T0 + timedelta(seconds=1)).agents}
    assert states == {"agent1": AgentState.IN_CALL, "agent2": AgentState.FREE}


def test_given_an_agent_in_call_when_a_queue_status_after_a_reconnect_says_idle_then_wrap_up_starts():
    # The AMI back end applies each login's QueueStatus to the board it kept: a call that ended
    # while the link was down still gives the agent their wrap-up, and other entries are ignored.
    board = AgentBoard()
    status(board, T0, InCall="1", Status="2")
    assert state(board, T0).state is AgentState.IN_CALL
    later = T0 + timedelta(seconds=30)
    board.apply_queue_status([{"Event": "QueueParams", "Queue": "collections"},
                              {"Event": "QueueMember", "Queue": "collections", "Name": "agent1",
                               "Location": "PJSIP/agent1", "Status": "1", "Paused": "0", "InCall": "0"}],
                             at=later)
    assert state(board, later).state is AgentState.WRAP_UP
    assert state(board, later + timedelta(seconds=6)).state is AgentState.FREE
