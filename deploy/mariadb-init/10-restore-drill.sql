-- Run by the mariadb image once, when it creates an empty data volume (docker-compose.yml),
-- after it has created the smartcart database and login. The restore drill loads a backup
-- into a scratch database named smartcart_restore...; the login may create and drop those,
-- and nothing else beyond its own database.
GRANT ALL PRIVILEGES ON `smartcart\_restore%`.* TO 'smartcart'@'%';
