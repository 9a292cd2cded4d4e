# The load balancer of Scripts/cluster: Debian's nginx in front of the replicas, as one foreground process. Sourced.

# cluster_nginx_config DIR PORT REPLICA_PORT...: prints an nginx configuration that listens on 127.0.0.1:PORT and
# balances every request over the replicas on 127.0.0.1:REPLICA_PORT (one process, no master, no user switch; every
# file in DIR). A replica that refuses connections is skipped for 5 s and the request goes to the next one. Responses
# are not buffered, so an SSE stream (`…/stream`) reaches its client event by event.
cluster_nginx_config() {
    local dir="$1" port="$2"
    shift 2
    local replica servers=""
    for replica in "$@"; do
        servers+="        server 127.0.0.1:$replica max_fails=1 fail_timeout=5s;"$'\n'
    done
    cat <<NGINX
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log notice;
events { worker_connections 1024; }
http {
    access_log $dir/access.log;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    upstream halyard {
$servers        keepalive 16;
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://halyard;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_connect_timeout 1s;
            proxy_next_upstream error timeout http_502 http_503;
            # SSE: pass each event on at once; Halyard's keep-alive comments (every 15 s) keep the stream under
            # proxy_read_timeout.
            proxy_buffering off;
            proxy_read_timeout 120s;
        }
    }
}
NGINX
}
