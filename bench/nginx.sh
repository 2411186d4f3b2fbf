# bench/nginx.sh: a local nginx for the HTTP benchmarks (bench/http, bench/lua), sourced
# from the repository root.
#
#   nginx_serve <work> [directives] [workers]
#                        serves <work>/www on 127.0.0.1 at a port chosen now (with the
#                        extra server directives given, by 1 worker process or
#                        <workers>); sets nginx_port, or prints why and returns 1. Its
#                        configuration, logs and temporary files stay in <work>.
#   nginx_stop           stops it (call it from the script's EXIT trap).
#
# The configuration is made for throughput: sendfile, no access log, long keep-alive.

nginx_pid=""
nginx_port=""

nginx_serve() {
    local work=$1 extra=${2:-} workers=${3:-1} bin master=off
    bin=$(command -v nginx || echo /usr/sbin/nginx)
    [ -x "$bin" ] || { echo "nginx is missing (scripts/install-deps.sh --bench)"; return 1; }
    mkdir -p "$work/www" "$work/tmp"
    [ "$workers" -gt 1 ] && master=on
    nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat >"$work/nginx.conf" <<CONF
daemon off;
master_process $master;
worker_processes $workers;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    client_body_temp_path $work/tmp/body;
    proxy_temp_path $work/tmp/proxy;
    fastcgi_temp_path $work/tmp/fastcgi;
    uwsgi_temp_path $work/tmp/uwsgi;
    scgi_temp_path $work/tmp/scgi;
    types { application/octet-stream bin; text/plain txt; }
    server {
        listen 127.0.0.1:$nginx_port;
        root $work/www;
        $extra
    }
}
CONF
    "$bin" -p "$work" -c "$work/nginx.conf" -e "$work/error.log" >"$work/nginx.out" 2>&1 &
    nginx_pid=$!
    for _ in $(seq 1 100); do
        if python3 -c "import socket; socket.create_connection(('127.0.0.1', $nginx_port), 0.2)" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "nginx did not start"
    cat "$work/nginx.out" "$work/error.log" 2>/dev/null
    return 1
}

nginx_stop() {
    if [ -n "$nginx_pid" ]; then
        kill "$nginx_pid" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$nginx_pid" 2>/dev/null
        nginx_pid=""
    fi
}
