# Sourced by the mariadb image on the FIRST start of an empty data volume (docker-entrypoint-initdb.d):
# Superset's own metadata database and account, and the right for the app's account to create the
# read-only BI user and grant it SELECT on the BI views (`flask bi grant`, run by `migrate`).
docker_process_sql --database=mysql <<SQL
CREATE DATABASE IF NOT EXISTS superset CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'superset'@'%' IDENTIFIED BY '${SUPERSET_DB_PASSWORD}';
GRANT ALL PRIVILEGES ON superset.* TO 'superset'@'%';
GRANT CREATE USER ON *.* TO '${MARIADB_USER}'@'%';
GRANT ALL PRIVILEGES ON \`${MARIADB_DATABASE}\`.* TO '${MARIADB_USER}'@'%' WITH GRANT OPTION;
SQL
