//! The test kit starts real servers, and a killed one is really gone while the others answer.

use pool_testkit::{RedisFleet, port_open};

#[test]
fn three_servers_survive_the_loss_of_one() {
    let Some(mut fleet) = RedisFleet::start_or_skip("three_servers_survive_the_loss_of_one", 3)
    else {
        return;
    };
    for i in 0..3 {
        let key = format!("key-{i}");
        assert_eq!(fleet.command(i, &["SET", &key, &format!("value-{i}")]).unwrap(), "+OK");
        assert_eq!(fleet.command(i, &["GET", &key]).unwrap(), format!("value-{i}"));
    }
    // Each server is its own process with its own data.
    assert_eq!(fleet.command(0, &["GET", "key-1"]).unwrap(), "(nil)");

    let killed = fleet.port(1).unwrap();
    fleet.kill(1).unwrap();
    assert!(!fleet.is_running(1));
    assert!(!port_open(killed), "killed server's port {killed} still accepts connections");
    assert!(fleet.command(1, &["PING"]).is_err());

    for i in [0, 2] {
        assert_eq!(fleet.command(i, &["PING"]).unwrap(), "+PONG");
        assert_eq!(fleet.command(i, &["GET", &format!("key-{i}")]).unwrap(), format!("value-{i}"));
    }

    // A restart comes back on the same port, empty (nothing is persisted).
    fleet.restart(1).unwrap();
    assert!(port_open(killed));
    assert_eq!(fleet.command(1, &["GET", "key-1"]).unwrap(), "(nil)");
}

#[test]
fn dropping_the_fleet_kills_every_server_even_on_panic() {
    let Some(fleet) = RedisFleet::start_or_skip("dropping_the_fleet_kills_every_server", 2) else {
        return;
    };
    let ports = fleet.ports();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _owned = fleet;
        panic!("a test failing mid-way");
    }));
    assert!(outcome.is_err());
    for port in ports {
        assert!(!port_open(port), "port {port} still open after the fleet was dropped");
    }
}

#[test]
fn unknown_index_is_a_typed_error() {
    let Some(fleet) = RedisFleet::start_or_skip("unknown_index_is_a_typed_error", 1) else {
        return;
    };
    let e = fleet.command(3, &["PING"]).unwrap_err();
    assert!(matches!(e.kind(), pool_testkit::RedisErrorKind::NoSuchServer { index: 3, len: 1 }));
    assert_eq!(e.to_string(), "no server 3 in a fleet of 1");
}
