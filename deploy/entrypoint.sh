#!/bin/sh
# Container entry point.  web (default): migrate the database (`yiyang init`; app servers
# starting together wait for each other on a database lock), then serve with gunicorn.
# worker / scheduler: the background job processes. Anything else runs as given
# (`docker compose run app1 yiyang users create ...`).
set -eu

command=${1:-web}
case "$command" in
  web)
    yiyang init
    exec gunicorn -c python:core.gunicorn_conf 'app:create_app()'
    ;;
  worker | scheduler)
    exec yiyang "$command"
    ;;
  *)
    exec "$@"
    ;;
esac
